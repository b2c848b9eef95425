#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a loopback port.
#   postgres_test_server.sh start DIR PORT   initdb into DIR/data, start, wait until ready
#   postgres_test_server.sh stop DIR         stop it (the data directory is left for inspection)
#   postgres_test_server.sh restart DIR      fast restart (used by a test)
#   postgres_test_server.sh resume DIR PORT  start a stopped server again, its data kept (used by a test)
# Trust authentication on 127.0.0.1 only: test use, never production.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
# The server daemon must not inherit the caller's descriptors: a parent that
# watches a descriptor for its child's exit (Foundation's Process does) would wait forever.
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
launch() {
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}
dir=$2
case "$1" in
start)
  port=$3
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  launch "$port"
  echo "PostgreSQL test server on 127.0.0.1:$port ($dir)"
  ;;
resume)
  launch "$3"
  ;;
stop)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  ;;
restart)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart -l "$dir/server.log" >/dev/null
  ;;
*)
  echo "usage: $0 start DIR PORT | stop DIR | restart DIR | resume DIR PORT" >&2
  exit 2
  ;;
esac
