/*
 * viewer_text.c: the viewer's messages in Japanese and English, and the
 * choice between them (see viewer_text.h).
 */
#include "viewer_text.h"

#include <SDL2/SDL_locale.h>
#include <SDL2/SDL_stdinc.h>
#include <stdlib.h>
#include <string.h>

static const char *const text_ja[TEXT_COUNT] = {
	[TEXT_TITLE_LOGIN] = "pixelgate — ログイン",
	[TEXT_LABEL_SERVER] = "接続先",
	[TEXT_LABEL_USER] = "ユーザー名",
	[TEXT_LABEL_PASSWORD] = "パスワード",
	[TEXT_LABEL_OTP] = "確認コード（認証アプリの6桁の数字）",
	[TEXT_ERR_OTP_REQUIRED] =
	    "このアカウントは二要素認証を使います。認証アプリに表示されている6桁の"
	    "確認コードを入力して、もう一度ログインしてください。",
	[TEXT_ERR_OTP_INVALID] =
	    "確認コードが違うか、すでに使われています。次のコードが表示されるのを"
	    "待ってから入力してください。",
	[TEXT_BUTTON_LOGIN] = "ログイン",
	[TEXT_CONNECTING] = "接続しています…",
	[TEXT_STARTING_BROWSER] = "ブラウザーを準備しています。"
				  "しばらくお待ちください…",
	[TEXT_ERR_CREDENTIALS] = "ユーザー名またはパスワードが違います。"
				 "もう一度入力してください。",
	[TEXT_ERR_SERVER_REFUSED] =
	    "サーバーがログインを受け付けませんでした。"
	    "しばらく待ってから、もう一度お試しください。"
	    "解決しない場合は、下の内容を情報システム担当者にお伝えください。",
	[TEXT_ERR_UNREACHABLE] = "サーバーに接続できません。"
				 "このパソコンがネットワークにつながっているか確認してください。"
				 "解決しない場合は、情報システム担当者にご連絡ください。",
	[TEXT_ERR_CERTIFICATE] = "接続先のサーバーが正しいサーバーであることを確認できなかったため、"
				 "安全のため接続を中止しました。"
				 "情報システム担当者にご連絡ください。",
	[TEXT_ERR_CA_FILE] = "接続先を確認するための証明書ファイルを読み込めませんでした。"
			     "情報システム担当者にご連絡ください。",
	[TEXT_ERR_NO_SERVER] = "接続先のサーバーが設定されていないか、設定に誤りがあります。"
			       "情報システム担当者にご連絡ください。",
	[TEXT_ERR_EMPTY_FIELDS] = "ユーザー名とパスワードを入力してください。",
	[TEXT_LOST_RETRYING] = "サーバーとの接続が切れました。"
			       "%d 秒後に自動で接続し直します。"
			       "このままお待ちください。",
	[TEXT_SESSION_ENDED] = "ブラウザーの利用が終了しました。"
			       "サーバーからの理由は次のとおりです。",
	[TEXT_REPLACED] = "同じユーザー名で別のパソコンからログインしたため、"
			  "この画面の接続を終了しました。",
	[TEXT_PRESS_ENTER_TO_LOGIN] = "もう一度ログインするには、Enter キーを押してください。",
	[TEXT_PLAY_VERIFIED] = "検証済み: この録画の SHA-256 は監査ログの記録と一致し、"
			       "監査ログは改ざんされていません。",
	[TEXT_PLAY_NOT_VERIFIED] = "未検証の録画です。",
	[TEXT_PLAY_EVENTS] = "監査ログのイベント（クリックでその時点へ）",
	[TEXT_PLAY_KEYS] = "Space 再生/一時停止　←→ 5秒　1〜8 速度　↑↓ イベント",
};

static const char *const text_en[TEXT_COUNT] = {
	[TEXT_TITLE_LOGIN] = "pixelgate — Log in",
	[TEXT_LABEL_SERVER] = "Server",
	[TEXT_LABEL_USER] = "User name",
	[TEXT_LABEL_PASSWORD] = "Password",
	[TEXT_LABEL_OTP] = "Code (6 digits from your authenticator app)",
	[TEXT_ERR_OTP_REQUIRED] = "This account uses two-step sign-in. Enter the 6-digit code your "
				  "authenticator app shows, then log in again.",
	[TEXT_ERR_OTP_INVALID] = "The code is wrong or was used already. Wait for the next code, "
				 "then enter it.",
	[TEXT_BUTTON_LOGIN] = "Log in",
	[TEXT_CONNECTING] = "Connecting…",
	[TEXT_STARTING_BROWSER] = "Preparing the browser. Please wait…",
	[TEXT_ERR_CREDENTIALS] = "The user name or password is incorrect. Please enter them again.",
	[TEXT_ERR_SERVER_REFUSED] =
	    "The server did not accept the login. Please wait a moment and try again. "
	    "If this keeps happening, please tell your IT staff what is shown below.",
	[TEXT_ERR_UNREACHABLE] =
	    "Cannot reach the server. Please check that this PC is connected to the network. "
	    "If the problem continues, please contact your IT staff.",
	[TEXT_ERR_CERTIFICATE] =
	    "The server could not be confirmed to be the right one, so the connection was "
	    "stopped for your safety. Please contact your IT staff.",
	[TEXT_ERR_CA_FILE] = "The certificate file used to check the server could not be read. "
			     "Please contact your IT staff.",
	[TEXT_ERR_NO_SERVER] = "The server to connect to is not set, or its setting is wrong. "
			       "Please contact your IT staff.",
	[TEXT_ERR_EMPTY_FIELDS] = "Please enter your user name and password.",
	[TEXT_LOST_RETRYING] =
	    "The connection to the server was lost. Reconnecting automatically in %d s. "
	    "Please wait.",
	[TEXT_SESSION_ENDED] = "The browsing session has ended. The reason given by the server:",
	[TEXT_REPLACED] = "This window was disconnected because the same user name logged in "
			  "on another PC.",
	[TEXT_PRESS_ENTER_TO_LOGIN] = "To log in again, press Enter.",
	[TEXT_PLAY_VERIFIED] = "Verified: this recording's SHA-256 matches its record in the "
			       "audit log, and the audit log is intact.",
	[TEXT_PLAY_NOT_VERIFIED] = "NOT VERIFIED.",
	[TEXT_PLAY_EVENTS] = "Audit log events (click to go there)",
	[TEXT_PLAY_KEYS] = "Space play/pause, Left/Right 5 s, 1-8 speed, Up/Down events",
};

static int text_japanese = -1; /* -1: not decided yet */

bool text_locale_is_japanese(const char *lc_all, const char *lc_messages, const char *lang)
{
	const char *vars[3] = { lc_all, lc_messages, lang };
	for (int i = 0; i < 3; i++)
		if (vars[i] != NULL && vars[i][0] != '\0')
			return strncmp(vars[i], "ja", 2) == 0;
	return false;
}

/* No locale variable set (Windows): the system's preferred language. */
static bool text_system_is_japanese(void)
{
	bool ja = false;
	SDL_Locale *locales = SDL_GetPreferredLocales();
	if (locales != NULL) {
		ja = locales[0].language != NULL && strcmp(locales[0].language, "ja") == 0;
		SDL_free(locales);
	}
	return ja;
}

static bool text_env_set(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0';
}

void text_set_language(const char *language)
{
	if (language != NULL && strcmp(language, "ja") == 0) {
		text_japanese = 1;
	} else if (language != NULL && strcmp(language, "en") == 0) {
		text_japanese = 0;
	} else if (text_env_set("LC_ALL") || text_env_set("LC_MESSAGES") || text_env_set("LANG")) {
		text_japanese = text_locale_is_japanese(getenv("LC_ALL"), getenv("LC_MESSAGES"),
							getenv("LANG"));
	} else {
		text_japanese = text_system_is_japanese();
	}
}

bool text_is_japanese(void)
{
	if (text_japanese < 0)
		text_set_language(NULL);
	return text_japanese == 1;
}

const char *text_get(enum text_id id)
{
	if ((unsigned)id >= TEXT_COUNT)
		return "";
	const char *s = text_is_japanese() ? text_ja[id] : text_en[id];
	return s != NULL ? s : "";
}
