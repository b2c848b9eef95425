#!/usr/bin/env bash
# A throwaway Dovecot IMAP server for the tests: IMAPS only, on a loopback
# port, a self-signed certificate for 127.0.0.1 (DIR/cert.pem, to trust as
# the CA), one user with a plain password, Maildir under DIR.
#   imap_test_server.sh start DIR PORT USER PASSWORD   configure, start, wait until it listens
#   imap_test_server.sh stop DIR                       stop it by its pid
#   imap_test_server.sh resume DIR PORT                start a stopped server again (same certificate, mail kept)
#   imap_test_server.sh append DIR PORT USER PASSWORD FILE...   deliver messages (IMAP APPEND, Python's imaplib)
#   imap_test_server.sh count DIR PORT USER PASSWORD   print how many messages the mailbox holds
# The Debian package's own service is not used (make test stops and disables it).
set -euo pipefail
dir=$2
# The daemon must not inherit the caller's descriptors (see postgres_test_server.sh).
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
imap() {  # python code with `box` logged in
  python3 - "$@" <<PY
import imaplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile="$dir/cert.pem")
box = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context)
box.login(user, password)
$IMAP_CODE
box.logout()
PY
}
case "$1" in
start)
  port=$3 user=$4 password=$5
  rm -rf "$dir"
  mkdir -p "$dir/home" "$dir/run" "$dir/state"
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then
    mail_uid=nobody mail_gid=nogroup users=""
    chown nobody:nogroup "$dir/home"
  else
    mail_uid=$(id -un) mail_gid=$(id -gn)
    users="default_internal_user = $mail_uid
default_login_user = $mail_uid
default_internal_group = $mail_gid"
  fi
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  printf '%s:{PLAIN}%s::::::\n' "$user" "$password" > "$dir/users"
  cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
ssl = required
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
$users
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $port
    ssl = yes
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$dir/home/%u
}
mail_location = maildir:~/Maildir
CONF
  exec "$0" resume "$dir" "$port"
  ;;
resume)
  port=$3
  /usr/sbin/dovecot -c "$dir/dovecot.conf"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "Dovecot test server on 127.0.0.1:$port ($dir)"
      exit 0
    fi
    sleep 0.1
  done
  echo "Dovecot did not start:" >&2; cat "$dir/dovecot.log" >&2 || true; exit 1
  ;;
stop)
  # Every process of this instance (the master leads their session): a login
  # process left proxying a TLS connection would keep clients waiting.
  if [ -f "$dir/run/master.pid" ]; then
    pid=$(cat "$dir/run/master.pid")
    kill "$pid" 2>/dev/null || true
    pkill -TERM -s "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      if ! kill -0 "$pid" 2>/dev/null && ! pgrep -s "$pid" >/dev/null; then break; fi
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    pkill -KILL -s "$pid" 2>/dev/null || true
    rm -f "$dir/run/master.pid"
  fi
  ;;
append)
  port=$3 user=$4 password=$5; shift 5
  IMAP_CODE='
for path in sys.argv[4:]:
    status, _ = box.append("INBOX", None, None, open(path, "rb").read())
    assert status == "OK", status' imap "$port" "$user" "$password" "$@"
  ;;
count)
  IMAP_CODE='
status, data = box.select("INBOX")
print(int(data[0]))' imap "$3" "$4" "$5"
  ;;
*)
  echo "usage: $0 start|stop|append|count DIR ..." >&2; exit 2
  ;;
esac
