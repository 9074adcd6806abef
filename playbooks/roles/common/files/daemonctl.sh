# daemonctl.sh DIR ACTION [DAEMON [ARG...]] — how a lab host's daemons are named, stopped and held down,
# written once: <host_dir>/run/<daemon>.pid names a daemon, <host_dir>/sv/<daemon> is its runsv service
# (escape.supervisor), <host_dir>/run/runsvdir.pid the host's supervision tree. The roles run it from
# their files (a hosts lab: from what the ship play put on the machine); the hosts provider sends it to
# a machine on stdin for each act (`sh -s DIR ACTION ...`), so it works before anything was shipped.
# (Local hosts' faults act from Python, nineslab.providers.daemons, by the same files.)
#
#   HOST_DIR stop DAEMON EXEC [forget]   stop it for a new configuration (its start script starts it
#                                        again), or for good (forget: the host no longer runs it);
#                                        under a supervisor it is held down through its runsv
#   HOST_DIR start DAEMON                start it with the command its deploy wrote (run/DAEMON.start)
#   HOST_DIR supervise DAEMON            (its start script, escape.supervisor) run it under its runsv by
#                                        run/DAEMON.run, in the host's supervision tree; exit 1: it ran
#   HOST_DIR spawn DAEMON LOADED EXEC [ARG...]  (its start script, no supervisor) start EXEC in the
#                                        background (the environment passes on); then run LOADED
#   HOST_DIR evict DAEMON                (its start script) end the host's supervision tree and DAEMON
#                                        where they live in another network namespace than this one
#   HOST_DIR signal DAEMON SIGNAL        send SIGNAL, print the PID
#   HOST_DIR hold DAEMON                 down until started again: its runsv told first, then SIGKILL
#   HOST_DIR unsupervise                 the supervision tree killed (the daemons left running)
#   LAB_DIR purge                        every daemon of every host ended by its pidfile (supervisors
#                                        first), then the lab's directory removed
# Exit 0: done; 1: nothing to do (it was not running / already running); 2: it failed or bad usage.
# signal, start, hold and unsupervise print the machine's clock at the act first (`@<epoch>`: ssh.STAMP).
d=$1; act=$2; daemon=$3
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
pid_of() { p=$(cat "$d/run/$1.pid" 2>/dev/null); alive "$p" && echo "$p"; }
stamp() { date +@%s.%N; }
# the host's supervision tree ended: runsvdir by its pidfile, then the runsv processes it started
untree() { p=$(pid_of runsvdir) || return 1; kill -9 "$p" $(pgrep -P "$p"); rm -f "$d/run/runsvdir.pid"; }
case $act in
  stop)
    exe=$4; sv=$d/sv/$daemon; pidfile=$d/run/$daemon.pid
    if sv status "$sv" >/dev/null 2>&1; then
      case "$(sv status "$sv")" in run:*) rc=0 ;; *) rc=1 ;; esac
      # down (TERM), and KILL after 7 s; `exit` also ends this service's runsv when it is gone for good
      sv -w 7 force-stop "$sv" >/dev/null
      if [ "$5" = forget ]; then sv exit "$sv" >/dev/null; rm -rf "$sv"; fi
      rm -f "$pidfile"
      exit $rc
    fi
    [ "$5" = forget ] && rm -rf "$sv"
    exec start-stop-daemon --stop --quiet --retry TERM/5/KILL/2 --remove-pidfile --pidfile "$pidfile" --exec "$exe" ;;
  start) stamp; exec sh "$d/run/$daemon.start" ;;
  evict)
    # A process keeps a deleted namespace alive: a pidfile's process that survived its host's namespace
    # is stale for this host, ended by that PID — the supervision tree first (runsvdir and the runsv it
    # started), or a runsv would restart the daemon there.
    for f in "$d/run/runsvdir.pid" "$d/run/$daemon.pid"; do
      p=$(cat "$f" 2>/dev/null || true)
      if [ -n "$p" ] && [ -e "/proc/$p" ] && [ "$(readlink "/proc/$p/ns/net")" != "$(readlink /proc/self/ns/net)" ]; then
        kill -9 "$p" $(pgrep -P "$p" -x runsv); rm -f "$f"
      fi
    done ;;
  supervise)
    # The host's one supervision tree (runsvdir over DIR/sv) starts a crashed daemon again at once, as
    # systemd's Restart=always would.
    pidfile=$d/run/$daemon.pid; sv=$d/sv/$daemon
    p=$(cat "$pidfile" 2>/dev/null || true)
    # Its parent says whether it runs under a runsv (supervise/pid lags a restart: comparing with it once
    # stopped a daemon runsv had just restarted after a crash, and left the next one without a pidfile).
    pp=$(cut -d' ' -f4 "/proc/$p/stat" 2>/dev/null || true)
    if [ -n "$p" ] && [ -e "/proc/$p" ] && [ "$(cat "/proc/$pp/comm" 2>/dev/null)" != runsv ]; then
      # Running, but not under the supervisor (supervision was just switched on): stopped, restarted under it.
      start-stop-daemon --stop --quiet --oknodo --retry TERM/5/KILL/2 --remove-pidfile --pidfile "$pidfile"
    fi
    mkdir -p "$sv"
    # runsv runs it: the daemon's PID is its pidfile, as without supervision
    { printf '#!/bin/sh\necho $$ > %s\n' "$pidfile" && cat "$d/run/$daemon.run"; } > "$sv/run.new" &&
      chmod 755 "$sv/run.new" && mv -f "$sv/run.new" "$sv/run" || exit 2
    # runsvdir leaves a service directory changed within the current second for its next scan, a second
    # later (1.01 s measured from its start to the service's runsv); this one is complete, so its mtime
    # is set back and a runsvdir started now takes it up at once (8 ms).
    touch -d '-2 seconds' "$d/sv"
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$d/run/runsvdir.pid" \
      --chdir "$d" --exec /usr/bin/runsvdir -- -P "$d/sv"
    # Its runsv (bounded, 10 s): at once from a runsvdir started just now, about a second from one
    # already running (its next scan).
    i=0
    until sv status "$sv" >/dev/null 2>&1; do
      i=$((i + 1)); [ $i -gt 200 ] && { echo "runsv did not take up $sv within 10 s" >&2; exit 2; }
      sleep 0.05
    done
    was=$(sv status "$sv")
    # Always `up`: a service held down (a `stop` fault) or started once is normally up again. Waited for
    # here, 20 ms apart (bounded, 10 s): `sv -w` polls every 420 ms, which was 0.45 s of every start.
    sv up "$sv" || { echo "runsv could not start $daemon: $(sv status "$sv")" >&2; exit 2; }
    i=0
    until sv status "$sv" | grep -q '^run:'; do
      i=$((i + 1)); [ $i -gt 500 ] && { echo "runsv could not start $daemon: $(sv status "$sv")" >&2; exit 2; }
      sleep 0.02
    done
    case "$was" in
      run:*)
        # Running already; a pidfile lost meanwhile is written again from the supervisor's own record.
        p=$(cat "$pidfile" 2>/dev/null || true)
        if [ -z "$p" ] || [ ! -e "/proc/$p" ]; then cat "$sv/supervise/pid" > "$pidfile"; fi
        exit 1 ;;
    esac
    # The pidfile names the running process once its run script has started (bounded, 5 s).
    i=0
    until [ "$(cat "$pidfile" 2>/dev/null)" = "$(cat "$sv/supervise/pid" 2>/dev/null)" ]; do
      i=$((i + 1)); [ $i -gt 100 ] && break
      sleep 0.05
    done
    exit 0 ;;
  signal) p=$(pid_of "$daemon") || exit 1; stamp; kill -"$4" "$p" && echo "$p" ;;
  hold)
    ctl=$d/sv/$daemon/supervise/control  # its runsv told not to start it again ('o': it ran once)...
    # ...and the kill only once it says so: an 'o' read after the death starts the daemon again
    if [ -p "$ctl" ] && timeout 1 sh -c "printf o > '$ctl'"; then
      i=0; stat=${ctl%/control}/stat
      until grep -q 'want down' "$stat" 2>/dev/null || [ $i -ge 200 ]; do sleep 0.01; i=$((i+1)); done
    fi
    p=$(pid_of "$daemon") || exit 1; stamp; kill -9 "$p"
    i=0; while alive "$p" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; echo "$p" ;;
  spawn)
    # A crashed daemon stays down until recovered. A supervision tree left from before the switch is
    # ended (the daemons keep running, unsupervised). Exit 1: it was running already (what it loaded
    # then is still what runs).
    loaded=$4; shift 4
    untree; rm -rf "$d/sv"
    exe=$1; shift
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$d/run/$daemon.pid" \
      --output "$d/log/$daemon.log" --chdir "$d" --exec "$exe" -- "$@"
    rc=$?
    if [ $rc = 0 ]; then sh -c "$loaded"; fi
    exit $rc ;;
  unsupervise) pid_of runsvdir >/dev/null || exit 1; stamp; untree ;;
  purge)
    for f in "$d"/hosts/*/run/runsvdir.pid "$d"/hosts/*/run/*.pid; do
      [ -f "$f" ] || continue; p=$(cat "$f")
      [ -n "$p" ] && [ -e "/proc/$p" ] && kill -9 "$p" $(pgrep -P "$p") 2>/dev/null; rm -f "$f"
    done
    rm -rf "$d" ;;
  *) echo "daemonctl.sh: unknown action '$act' (stop, start, supervise, spawn, evict, signal, hold, unsupervise, purge)" >&2; exit 2 ;;
esac
