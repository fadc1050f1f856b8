# deploy/pixelgate.conf.example -> /etc/pixelgate/pixelgate.conf of the package
s|^session_binary =.*|session_binary = /usr/libexec/pixelgate/pixelgate-session|
s|^users_file =.*|users_file = /var/lib/pixelgate/users|
s|^upstream_proxy =.*|upstream_proxy = 127.0.0.1:3128|
