# nix-hive's activation agent. nix-hive sends this script over ssh and runs
# it on the host as
#
#   sh agent.sh status
#   sh agent.sh start ID STOREPATH ACTION PROFILE ROLLBACK CONFIRM_SECONDS
#   sh agent.sh wait ID SECONDS
#   sh agent.sh confirm ID
#
# `start` activates in a detached worker (setsid, no tie to the ssh
# session), so a dropped connection cannot cut an activation off half-way;
# `wait` reattaches from any new connection. ACTION is
# switch-to-configuration's argument; nix-hive decides everything else and
# passes it explicitly: PROFILE (yes/no) whether the system profile is set
# first, ROLLBACK how a failure is undone (running: activate the previous
# running system again with ACTION; boot: make the previous profile the
# boot default again; none), and CONFIRM_SECONDS (> 0: roll back unless
# nix-hive confirms over a fresh connection in time). The arguments come
# from nix-hive as separate words; this script never evaluates them as
# shell text.
set -u
PATH=/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin:/usr/bin:/bin:/usr/sbin:/sbin:$PATH
state=/run/nix-hive
profile=/nix/var/nix/profiles/system
self=$state/agent.sh

say() { printf '%s\n' "$*"; }

# tick pauses briefly: a fifth of a second where sleep takes fractions
# (coreutils, busybox), else a second.
tick() { sleep 0.2 2>/dev/null || sleep 1; }

set_status() { # DIR STATUS [DETAIL]
	printf '%s\n' "$2" >"$1/status.new" && mv -f "$1/status.new" "$1/status"
	[ $# -lt 3 ] || { printf '%s\n' "$3" >>"$1/log"; printf '%s\n' "$3" >"$1/reason"; }
}

readlink_f() { readlink -f "$1" 2>/dev/null || true; }

# generation prints the number of the profile generation a link points at.
generation() {
	link=$(readlink "$profile" 2>/dev/null) || return 0
	n=${link#system-}
	say "${n%-link}"
}

rollback() { # DIR ACTION PROFILE ROLLBACK PREV_GEN PREV_SYSTEM REASON
	dir=$1 action=$2 set_profile=$3 how=$4 prev_gen=$5 prev_system=$6 reason=$7
	[ "$how" = none ] || say "rolling back: $reason" >>"$dir/log"
	ok=yes
	if [ "$set_profile" = yes ] && [ -n "$prev_gen" ]; then
		nix-env -p "$profile" --switch-generation "$prev_gen" >>"$dir/log" 2>&1 || ok=no
	fi
	case $how in
	running)
		if [ -n "$prev_system" ] && [ -x "$prev_system/bin/switch-to-configuration" ]; then
			"$prev_system/bin/switch-to-configuration" "$action" >>"$dir/log" 2>&1 || ok=no
		fi
		[ "$(readlink_f /run/current-system)" = "$prev_system" ] || ok=no ;;
	boot)
		if [ -n "$prev_gen" ] && [ -x "$profile/bin/switch-to-configuration" ]; then
			"$profile/bin/switch-to-configuration" boot >>"$dir/log" 2>&1 || ok=no
		fi ;;
	*)
		set_status "$dir" failed "$reason"
		return ;;
	esac
	if [ $ok = yes ]; then
		set_status "$dir" rolled-back "rolled back to $(readlink_f "$profile") (running $(readlink_f /run/current-system)): $reason"
	else
		set_status "$dir" failed "rollback failed after: $reason"
	fi
}

worker() { # ID STOREPATH ACTION PROFILE ROLLBACK CONFIRM_SECONDS
	id=$1 path=$2 action=$3 set_profile=$4 how=$5 confirm=$6
	dir=$state/$id
	prev_gen=$(generation)
	prev_system=$(readlink_f /run/current-system)
	if [ "$set_profile" = yes ] && ! nix-env -p "$profile" --set "$path" >>"$dir/log" 2>&1; then
		set_status "$dir" failed "could not set the system profile"
		return
	fi
	if ! "$path/bin/switch-to-configuration" "$action" >>"$dir/log" 2>&1; then
		rollback "$dir" "$action" "$set_profile" "$how" "$prev_gen" "$prev_system" "switch-to-configuration $action failed"
		return
	fi
	if [ "$confirm" -gt 0 ]; then
		set_status "$dir" awaiting-confirmation
		since=$(date +%s)
		while [ ! -e "$dir/confirm" ] && [ $(($(date +%s) - since)) -lt "$confirm" ]; do
			tick
		done
		if [ ! -e "$dir/confirm" ]; then
			rollback "$dir" "$action" "$set_profile" "$how" "$prev_gen" "$prev_system" "not confirmed within ${confirm}s (the host may have lost its network)"
			return
		fi
	fi
	set_status "$dir" activated
}

case ${1-} in
status)
	say "current=$(readlink_f /run/current-system)"
	say "profile=$(readlink_f "$profile")"
	;;
start)
	id=$2 dir=$state/$2
	# One activation at a time per host: the lock is a directory holding
	# the worker's id; a lock whose worker is gone is taken over.
	if ! mkdir "$state/lock" 2>/dev/null; then
		holder=$(cat "$state/lock/id" 2>/dev/null || say none)
		case $(cat "$state/$holder/status" 2>/dev/null) in
		running | awaiting-confirmation)
			say "busy=$holder"
			exit 75 ;;
		esac
	fi
	say "$id" >"$state/lock/id"
	mkdir -p "$dir"
	set_status "$dir" running "activating $3 with switch-to-configuration $4"
	setsid sh "$self" worker "$2" "$3" "$4" "$5" "$6" "$7" </dev/null >>"$dir/log" 2>&1 &
	say "started=$id"
	;;
worker)
	worker "$2" "$3" "$4" "$5" "$6" "$7"
	if [ "$(cat "$state/lock/id" 2>/dev/null)" = "$2" ]; then
		rm -rf "$state/lock"
	fi
	;;
wait)
	dir=$state/$2 since=$(date +%s)
	while :; do
		st=$(cat "$dir/status" 2>/dev/null || say missing)
		case $st in running) ;; *) break ;; esac
		[ $(($(date +%s) - since)) -lt "$3" ] || break
		tick
	done
	say "status=$st"
	[ ! -e "$dir/reason" ] || say "reason=$(head -n 1 "$dir/reason")"
	tail -n 20 "$dir/log" 2>/dev/null | sed 's/^/log=/'
	;;
confirm)
	[ -d "$state/$2" ] && : >"$state/$2/confirm" && say "confirmed=$2"
	;;
*)
	say "usage: agent.sh status|start|wait|confirm ..." >&2
	exit 64
	;;
esac
