# pixelgate-viewer.exe, cross-compiled with MinGW-w64 against the static
# libraries deploy/build-windows-viewer.sh built from Debian's sources (its
# prefix on PKG_CONFIG_LIBDIR). Included by the top-level CMakeLists.txt
# for a Windows target instead of the Linux build.
find_package(Threads REQUIRED)
enable_language(RC) # the manifest and version (deploy/windows/pixelgate-viewer.rc)
pkg_check_modules(WIN REQUIRED libwebsockets libvncclient jansson inih openssl sdl2 SDL2_ttf)

# what the Windows headers and libraries want: Windows 10 APIs, C99 printf
# (%zu, %lld) in the C runtime's place, libvncclient's own WIN32 test; the
# code's format(__printf__, ...) attributes check C99 formats, not the
# C runtime's (MinGW's "printf" archetype is Microsoft's)
add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 WIN32 __USE_MINGW_ANSI_STDIO=1
  LWS_STATIC_PIC __printf__=__gnu_printf__)
# every library is static: link with the static flags (Libs.private)
add_library(pgwindeps INTERFACE)
target_include_directories(pgwindeps INTERFACE ${WIN_STATIC_INCLUDE_DIRS})
target_compile_options(pgwindeps INTERFACE ${WIN_STATIC_CFLAGS_OTHER})
target_link_directories(pgwindeps INTERFACE ${WIN_STATIC_LIBRARY_DIRS})
target_link_libraries(pgwindeps INTERFACE ${WIN_STATIC_LIBRARIES} ws2_32 iphlpapi crypt32
  userenv bcrypt advapi32 shell32 Threads::Threads)
target_link_options(pgwindeps INTERFACE -static)

add_library(pgrfb STATIC proxy/common/rfb_filter.c proxy/common/rfb_stream.c)
target_include_directories(pgrfb PUBLIC proxy/common)
add_library(pgclip STATIC proxy/common/clip_text.c)
target_include_directories(pgclip PUBLIC proxy/common)
target_link_libraries(pgclip PUBLIC pgwindeps)
add_library(pgini STATIC proxy/common/ini_lines.c)
target_include_directories(pgini PUBLIC proxy/common)
target_link_libraries(pgini PUBLIC pgwindeps)
add_library(pgclient_url STATIC client/client_url.c)
target_include_directories(pgclient_url PUBLIC client)
target_link_libraries(pgclient_url PUBLIC ws2_32)
add_library(pgplatform STATIC client/pgc_platform_win.c)
target_include_directories(pgplatform PUBLIC client)
target_link_libraries(pgplatform PUBLIC Threads::Threads ws2_32)
add_library(pgclient STATIC client/client_tls.c client/client_http.c client/client_bridge.c
  client/client_core.c)
target_include_directories(pgclient PUBLIC client)
target_link_libraries(pgclient PUBLIC pgclient_url pgplatform pgrfb pgclip pgwindeps)

add_library(pgviewer STATIC viewer/viewer_keymap.c viewer/viewer_geometry.c
  viewer/viewer_config.c viewer/viewer_text.c)
target_include_directories(pgviewer PUBLIC viewer)
target_include_directories(pgviewer PRIVATE ${CMAKE_SOURCE_DIR}/proxy/common)
target_link_libraries(pgviewer PUBLIC pgclient_url pgini pgwindeps)
add_executable(pixelgate-viewer viewer/viewer_main.c viewer/viewer_form.c viewer/viewer_input.c
  viewer/viewer_log.c viewer/viewer_sanitizer.c viewer/viewer_screen.c viewer/viewer_session.c
  viewer/viewer_ui.c viewer/viewer_wm.c viewer/viewer_platform_win.c
  deploy/windows/pixelgate-viewer.rc)
target_link_libraries(pixelgate-viewer PRIVATE pgviewer pgclient pgwindeps)

# TEST ONLY (tests/integration/test_viewer.c): types Unicode text into the
# viewer's window under Wine, as an input method would; never installed.
add_executable(wintype tests/fixtures/wintype.c)
target_link_libraries(wintype PRIVATE shell32)
