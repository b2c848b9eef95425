#!/usr/bin/env bash
# A throwaway Postfix for the tests: the relay that bounces (SPEC §6).
#   postfix_test_relay.sh start DIR PORT NEXT_HOP_PORT FLEXPOST_BIN ENV_FILE
#       smtpd on 127.0.0.1:PORT relays everything to 127.0.0.1:NEXT_HOP_PORT;
#       its own DSNs to bounces+…@companyflex.example go through Postfix's
#       pipe(8) transport into `flexpost bounce -`, run as nobody from a copy
#       of FLEXPOST_BIN with the FLEXPOST_… variables of ENV_FILE (KEY=VALUE lines).
#   postfix_test_relay.sh stop DIR
# Needs root (Postfix's master) and the Debian package installed with "No
# configuration": the system instance never runs; this one lives in DIR.
set -euo pipefail
dir=$2
case "$1" in
start)
  port=$3 next=$4 bin=$5 envfile=$6
  rm -rf "$dir"
  mkdir -p "$dir/etc" "$dir/spool" "$dir/data"
  chmod 755 "$dir"
  chown postfix:postfix "$dir/data"
  # What the pipe runs, readable by nobody wherever the build lives.
  cp "$bin" "$dir/flexpost"
  chmod 755 "$dir/flexpost"
  {
    echo '#!/bin/sh'
    sed -e '/^$/d' -e 's/^/export /' "$envfile"
    echo "exec $dir/flexpost bounce -"
  } > "$dir/bounce-pipe"
  chmod 755 "$dir/bounce-pipe"
  cat > "$dir/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.flexpost.test
mydomain = flexpost.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$next
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtpd_tls_security_level = none
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
biff = no
append_dot_mydomain = no
recipient_delimiter = +
transport_maps = inline:{ bounces@companyflex.example=flexpost: }
flexpost_destination_recipient_limit = 1
CONF
  cat > "$dir/etc/master.cf" <<CONF
$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
flexpost  unix  - n n - - pipe
  flags=DRq user=nobody argv=$dir/bounce-pipe
CONF
  cp /etc/postfix/dynamicmaps.cf "$dir/etc/"
  if [ -d /etc/postfix/dynamicmaps.cf.d ]; then cp -r /etc/postfix/dynamicmaps.cf.d "$dir/etc/"; fi
  if ! postfix -c "$dir/etc" start >"$dir/start.out" 2>&1; then
    echo "Postfix did not start:" >&2; cat "$dir/start.out" "$dir/maillog" >&2 2>/dev/null || true; exit 1
  fi
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "Postfix test relay on 127.0.0.1:$port, next hop :$next ($dir)"
      exit 0
    fi
    sleep 0.1
  done
  echo "Postfix did not start:" >&2; cat "$dir/maillog" >&2 || true; exit 1
  ;;
stop)
  postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: $0 start|stop DIR ..." >&2; exit 2
  ;;
esac
