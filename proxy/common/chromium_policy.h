/*
 * chromium_policy.h: the managed Chromium policy every session runs under.
 *
 * The administrator installs deploy/chromium-policy.json (tests/run.sh and
 * deploy/quickstart.sh do) at [session] chromium_policy. The gateway checks
 * at start (and `pixelgate -n`) that the file is there, is a JSON object and
 * holds every setting pixelgate's boundary needs, with the values it needs;
 * then each session's cell gets its own managed-policy directory holding that
 * policy plus what only the gateway knows: the mandatory proxy settings
 * pointing at the cell's egress port, and the administrator's URL lists.
 *
 * What the check requires (chromium_policy.c has the table, and what was
 * found on Debian's Chromium about DevTools and the CDP pipe): downloads,
 * file dialogs, printing, incognito, guest mode, added profiles, DevTools
 * (DeveloperToolsAvailability 2, which leaves the pipe working), autoplay,
 * the password manager, sync and sign-in off; WebRTC only through the proxy;
 * every extension blocked; file://, chrome://, devtools:// and view-source:
 * blocked; RemoteDebuggingAllowed absent or true (false closes the pipe); no
 * ProxySettings of its own; no duplicate keys, no NUL byte.
 */
#ifndef PIXELGATE_CHROMIUM_POLICY_H
#define PIXELGATE_CHROMIUM_POLICY_H

#include <stddef.h>

/* Largest policy file accepted, bytes. */
#define CHROMIUM_POLICY_MAX (64 * 1024)

/*
 * Read and check the policy at path. Then build the policy a session gets:
 * the file's settings; URLAllowlist and URLBlocklist extended with the
 * comma-separated entries of allowlist / blocklist (either may be ""); and,
 * when proxy_server is not NULL (e.g. "127.0.0.1:3128"), ProxySettings
 * {ProxyMode fixed_servers, ProxyServer proxy_server, ProxyBypassList
 * "<-loopback>"} so that even loopback goes through the proxy.
 * On success *json_out is a malloc'd NUL-terminated JSON text and 0 is
 * returned; on failure -1 and err names the file and what is missing or
 * wrong (e.g. "...: IncognitoModeAvailability must be 1 (incognito off), is 0").
 */
int chromium_policy_build(const char *path, const char *allowlist, const char *blocklist,
			  const char *proxy_server, char **json_out, char *err, size_t errlen);

#endif
