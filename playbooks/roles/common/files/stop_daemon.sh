# stop_daemon.sh HOST_DIR DAEMON EXEC [forget] — stop one daemon of a lab host by its pidfile, for a new
# configuration (the role's start script starts it again) or for good (`forget`: the host no longer runs
# it). Under the host's supervisor (escape.supervisor) it is held down through runsv, or runsv would
# restart it at once. Exit 0: stopped; 1: it was not running.
host_dir=$1; daemon=$2; exe=$3
sv=$host_dir/sv/$daemon
pidfile=$host_dir/run/$daemon.pid
if sv status "$sv" >/dev/null 2>&1; then
  case "$(sv status "$sv")" in run:*) rc=0 ;; *) rc=1 ;; esac
  # down (TERM), and KILL after 7 s; `exit` also ends this service's runsv when the daemon is gone for good
  sv -w 7 force-stop "$sv" >/dev/null
  if [ "$4" = forget ]; then sv exit "$sv" >/dev/null; rm -rf "$sv"; fi
  rm -f "$pidfile"
  exit $rc
fi
[ "$4" = forget ] && rm -rf "$sv"
exec start-stop-daemon --stop --quiet --retry TERM/5/KILL/2 --remove-pidfile --pidfile "$pidfile" --exec "$exe"
