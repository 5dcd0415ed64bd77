# nix-hive's activation agent. nix-hive sends this script over ssh and runs
# it on the host, as root (directly, or through passwordless sudo), as
#
#   sh agent.sh status
#   sh agent.sh start ID STOREPATH ACTION PROFILE ROLLBACK CONFIRM_SECONDS ON_FAILURE
#   sh agent.sh wait ID SECONDS OFFSET
#   sh agent.sh confirm ID
#   sh agent.sh release ID
#   sh agent.sh reject ID
#   sh agent.sh reboot
#
# `start` activates in a detached worker (a transient systemd unit where
# systemd runs, else setsid), so a dropped connection cannot cut an
# activation off half-way; `wait` reattaches from any new connection and
# returns the activation's output past byte OFFSET as it appears. ACTION is
# switch-to-configuration's argument; nix-hive decides everything else and
# passes it explicitly: PROFILE (yes/no) whether the system profile is set
# first, ROLLBACK how a failure is undone (running: activate the previous
# running system again with ACTION; boot: make the previous profile the
# boot default again; none), CONFIRM_SECONDS (> 0: roll back unless nix-hive
# confirms over a fresh connection in time, counted from when nix-hive has
# seen the switch finish), and ON_FAILURE (rollback or keep) what a switch
# that exits 2, 4 or any code but 0 and 100 leads to. `release` tells a
# worker that nix-hive stopped waiting: it keeps what the switch does and
# waits for no confirmation. `reject` refuses an activation awaiting
# confirmation (its health checks failed): it is undone at once as
# ON_FAILURE says. `reboot` reboots the host a second after it returns.
# `status` also prints the boot id, which changes with every boot. The
# arguments come from nix-hive as separate
# words; this script never evaluates them as shell text.
#
# switch-to-configuration's exit codes (NixOS's switch-to-configuration-ng
# and the older Perl script): 0 done; 100 the new system needs a reboot
# (the boot loader is installed, nothing was activated); 2 the activation
# script failed; 4 some units failed; 1 also "Could not acquire lock" when
# another switch holds /run/nixos/switch-to-configuration.lock.
#
# NIX_HIVE_AGENT_ROOT, set only by nix-hive's own tests, moves every path
# below under a test directory and puts its bin/ first in PATH.
set -u
root=${NIX_HIVE_AGENT_ROOT-}
PATH=/run/current-system/sw/bin:/nix/var/nix/profiles/default/bin:/usr/bin:/bin:/usr/sbin:/sbin:$PATH
[ -z "$root" ] || PATH=$root/bin:$PATH
state=$root/run/nix-hive
profile=$root/nix/var/nix/profiles/system
current=$root/run/current-system
booted=$root/run/booted-system
switch_lock=$root/run/nixos/switch-to-configuration.lock
pins=$root/nix/var/nix/gcroots/nix-hive
systemd=$root/run/systemd/system
self=$0

say() { printf '%s\n' "$*"; }

# tick pauses briefly: a fifth of a second where sleep takes fractions
# (coreutils, busybox), else a second.
tick() { sleep 0.2 2>/dev/null || sleep 1; }

# note adds one of the agent's own lines to an activation's log.
note() { printf 'nix-hive: %s\n' "$2" >>"$1/log"; }

set_status() { # DIR STATUS [REASON]
	[ $# -lt 3 ] || { note "$1" "$3"; printf '%s\n' "$3" >"$1/reason"; }
	printf '%s\n' "$2" >"$1/status.new" && mv -f "$1/status.new" "$1/status"
}

readlink_f() { readlink -f "$1" 2>/dev/null || true; }

size() { wc -c <"$1" 2>/dev/null | tr -d ' ' || say 0; }

# generation prints the number of the profile generation a link points at.
generation() {
	link=$(readlink "$profile" 2>/dev/null) || return 0
	n=${link#system-}
	say "${n%-link}"
}

# switch_lock_free reports whether no switch-to-configuration holds its lock.
switch_lock_free() {
	command -v flock >/dev/null 2>&1 || return 0
	mkdir -p "${switch_lock%/*}" && flock -n "$switch_lock" true
}

# set_profile points the profile at PATH, holding the switch lock so that
# it never changes while another switch runs; it fails with 75 if the lock
# is held.
set_profile() { # DIR PATH
	if command -v flock >/dev/null 2>&1; then
		mkdir -p "${switch_lock%/*}"
		flock -n -E 75 "$switch_lock" nix-env -p "$profile" --set "$2" >>"$1/log" 2>&1
	else
		nix-env -p "$profile" --set "$2" >>"$1/log" 2>&1
	fi
}

# run_switch runs PATH's switch-to-configuration ACTION with its output in
# the log: in a transient systemd unit as nixos-rebuild does, where systemd
# runs, else directly.
run_switch() { # DIR ID PATH ACTION
	if [ -d "$systemd" ] && command -v systemd-run >/dev/null 2>&1; then
		systemd-run -E LOCALE_ARCHIVE -E NIXOS_INSTALL_BOOTLOADER --collect --no-ask-password --pipe --quiet \
			--service-type=exec --unit="nix-hive-switch-$2" "$3/bin/switch-to-configuration" "$4" >>"$1/log" 2>&1 </dev/null
	else
		"$3/bin/switch-to-configuration" "$4" >>"$1/log" 2>&1 </dev/null
	fi
}

# explain describes a failing exit code of switch-to-configuration.
explain() {
	case $1 in
	2) say "switch-to-configuration $2 exited 2: the activation script failed" ;;
	4) say "switch-to-configuration $2 exited 4: some units failed" ;;
	*) say "switch-to-configuration $2 failed (exit $1)" ;;
	esac
}

# failed_units prints the switch's own "the following units failed" line
# from the log past OFFSET, if there is one.
failed_units() { # DIR OFFSET
	tail -c +"$(($2 + 1))" "$1/log" | grep -m 1 -i 'units failed' || true
}

# needs_reboot reports whether PATH's kernel, initrd or kernel modules
# differ from the booted system's.
needs_reboot() {
	[ -e "$booted" ] || return 1
	for f in kernel initrd kernel-modules; do
		[ "$(readlink_f "$booted/$f")" = "$(readlink_f "$1/$f")" ] || return 0
	done
	return 1
}

unpin() { rm -f "$pins/${1##*/}"; }

rollback() { # DIR ACTION PROFILE ROLLBACK PREV_GEN NEW_GEN PREV_SYSTEM REASON
	dir=$1 action=$2 set_profile=$3 how=$4 prev_gen=$5 new_gen=$6 prev_system=$7 reason=$8
	[ "$how" != none ] || { set_status "$dir" failed "$reason"; return; }
	note "$dir" "rolling back: $reason"
	ok=yes from=$(size "$dir/log") warn=
	if [ "$set_profile" = yes ] && [ -n "$prev_gen" ]; then
		nix-env -p "$profile" --switch-generation "$prev_gen" >>"$dir/log" 2>&1 || ok=no
	fi
	case $how in
	running)
		if [ -n "$prev_system" ] && [ -x "$prev_system/bin/switch-to-configuration" ]; then
			run_switch "$dir" "$id-rollback" "$prev_system" "$action"
			code=$?
			[ $code -eq 0 ] || warn="; the previous system's $(explain $code "$action") $(failed_units "$dir" "$from")"
		fi
		[ "$(readlink_f "$current")" = "$prev_system" ] || ok=no ;;
	boot)
		if [ -n "$prev_gen" ] && [ -x "$profile/bin/switch-to-configuration" ]; then
			run_switch "$dir" "$id-rollback" "$profile" boot || ok=no
		fi ;;
	esac
	if [ $ok = no ]; then
		set_status "$dir" failed "rollback failed after: $reason"
		return
	fi
	if [ "$set_profile" = yes ] && [ -n "$new_gen" ] && [ "$new_gen" != "$prev_gen" ]; then
		nix-env -p "$profile" --delete-generations "$new_gen" >>"$dir/log" 2>&1 ||
			note "$dir" "could not delete the failed generation $new_gen"
	fi
	set_status "$dir" rolled-back "$reason; rolled back to $(readlink_f "$profile") (running $(readlink_f "$current"))$warn"
}

# await_confirmation waits for nix-hive's confirmation: CONFIRM seconds
# from when nix-hive has seen the switch finish (or, if it never does,
# from the switch's end). It fails when none came.
await_confirmation() { # DIR CONFIRM
	set_status "$1" awaiting-confirmation
	since=$(date +%s) seen=no
	while [ ! -e "$1/confirm" ] && [ ! -e "$1/release" ]; do
		[ ! -e "$1/reject" ] || return 1
		if [ $seen = no ] && [ -e "$1/seen" ]; then
			seen=yes since=$(date +%s)
		fi
		[ $(($(date +%s) - since)) -lt "$2" ] || return 1
		tick
	done
}

worker() { # ID STOREPATH ACTION PROFILE ROLLBACK CONFIRM ON_FAILURE
	id=$1 path=$2 action=$3 set_profile=$4 how=$5 confirm=$6 on_failure=$7
	dir=$state/$id
	prev_gen=$(generation) new_gen=
	prev_system=$(readlink_f "$current")
	if [ "$set_profile" = yes ]; then
		set_profile "$dir" "$path"
		case $? in
		0) new_gen=$(generation); unpin "$path" ;;
		75) set_status "$dir" busy "another switch-to-configuration holds $switch_lock"; return ;;
		*) set_status "$dir" failed "could not set the system profile"; return ;;
		esac
	fi
	from=$(size "$dir/log")
	run_switch "$dir" "$id" "$path" "$action"
	code=$?
	unpin "$path"
	case $code in
	0) ;;
	100)
		if [ "$set_profile" != yes ]; then
			set_status "$dir" failed "switch-to-configuration $action exited 100: the new system needs a reboot, and $action does not make it the boot default; nothing was changed (use switch or boot)"
			return
		fi
		: >"$dir/reboot"
		set_status "$dir" activated "switch-to-configuration $action exited 100: the new system needs a reboot"
		return ;;
	*)
		if [ $code -eq 1 ] && tail -c +"$((from + 1))" "$dir/log" | grep -q 'Could not acquire lock'; then
			[ "$(generation)" != "$new_gen" ] || [ -z "$new_gen" ] ||
				{ nix-env -p "$profile" --switch-generation "$prev_gen" && nix-env -p "$profile" --delete-generations "$new_gen"; } >>"$dir/log" 2>&1
			set_status "$dir" busy "another switch-to-configuration took $switch_lock"
			return
		fi
		reason=$(explain $code "$action")
		if [ "$on_failure" != keep ] || [ "$how" = none ]; then
			rollback "$dir" "$action" "$set_profile" "$how" "$prev_gen" "$new_gen" "$prev_system" "$reason"
			return
		fi
		printf '%s\n' "$reason $(failed_units "$dir" "$from")" >"$dir/warning"
		note "$dir" "keeping the new system (--on-activation-failure keep): $reason" ;;
	esac
	case $action in switch | test) ! needs_reboot "$path" || : >"$dir/reboot" ;; esac
	if [ "$confirm" -gt 0 ] && ! await_confirmation "$dir" "$confirm"; then
		reason="not confirmed within ${confirm}s (the host may have lost its network)"
		if [ -e "$dir/reject" ]; then
			reason="nix-hive refused the new system: a health check failed"
			if [ "$on_failure" = keep ]; then
				set_status "$dir" failed "$reason; keeping the new system (--on-activation-failure keep)"
				return
			fi
		fi
		rollback "$dir" "$action" "$set_profile" "$how" "$prev_gen" "$new_gen" "$prev_system" "$reason"
		return
	fi
	set_status "$dir" activated
}

# launch starts the worker detached from this session: in a transient
# systemd unit where systemd runs, else in a new session.
launch() { # ID ...
	if [ -d "$systemd" ] && command -v systemd-run >/dev/null 2>&1; then
		systemd-run --collect --no-ask-password --quiet --unit="nix-hive-agent-$1" \
			sh "$self" worker "$@" </dev/null >>"$state/$1/log" 2>&1
	else
		setsid sh "$self" worker "$@" </dev/null >>"$state/$1/log" 2>&1 &
	fi
}

# start takes the host's nix-hive lock (a directory holding the worker's
# id; one whose worker is gone is taken over), checks the switch lock and
# launches the worker. It exits 75 when either lock is held.
start() { # ID STOREPATH ACTION PROFILE ROLLBACK CONFIRM ON_FAILURE
	mkdir -p "$state"
	if ! mkdir "$state/lock" 2>/dev/null; then
		holder=$(cat "$state/lock/id" 2>/dev/null || say none)
		case $(cat "$state/$holder/status" 2>/dev/null) in
		running | awaiting-confirmation)
			say "busy=$holder"
			exit 75 ;;
		esac
	fi
	say "$1" >"$state/lock/id"
	if ! switch_lock_free; then
		rm -rf "$state/lock"
		say "busy=switch-to-configuration"
		exit 75
	fi
	mkdir -p "$state/$1"
	set_status "$state/$1" running "activating $2 with switch-to-configuration $3"
	if ! launch "$@"; then
		set_status "$state/$1" failed "could not start the activation worker"
		rm -rf "$state/lock"
	fi
	say "started=$1"
}

# wait_for waits up to SECONDS while the activation runs and has no new
# output past OFFSET, then reports its status and that output.
wait_for() { # ID SECONDS OFFSET
	dir=$state/$1 since=$(date +%s)
	while :; do
		st=$(cat "$dir/status" 2>/dev/null || say missing)
		[ "$st" = running ] || break
		[ "$(size "$dir/log")" -le "$3" ] || { tick; break; }
		[ $(($(date +%s) - since)) -lt "$2" ] || break
		tick
	done
	[ "$st" != awaiting-confirmation ] || : >"$dir/seen"
	say "status=$st"
	[ ! -e "$dir/reason" ] || say "reason=$(head -n 1 "$dir/reason")"
	[ ! -e "$dir/warning" ] || say "warning=$(head -n 1 "$dir/warning")"
	[ ! -e "$dir/reboot" ] || say "reboot=yes"
	end=$(size "$dir/log")
	if [ "$end" -gt "$3" ]; then
		head -c "$end" "$dir/log" | tail -c +"$(($3 + 1))" | sed 's/^/out=/'
		say
	fi
	say "offset=$end"
}

case ${1-} in
status)
	say "current=$(readlink_f "$current")"
	say "profile=$(readlink_f "$profile")"
	say "boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
	;;
reboot)
	# As NixOS reboots: through systemd where it runs, else reboot(8).
	if [ -d "$systemd" ] && command -v systemctl >/dev/null 2>&1; then
		setsid sh -c 'sleep 1; exec systemctl reboot' </dev/null >/dev/null 2>&1 &
	else
		setsid sh -c 'sleep 1; exec reboot' </dev/null >/dev/null 2>&1 &
	fi
	say "rebooting=yes"
	;;
start)
	shift
	start "$@"
	;;
worker)
	shift
	worker "$@"
	if [ "$(cat "$state/lock/id" 2>/dev/null)" = "$1" ]; then
		rm -rf "$state/lock"
	fi
	;;
wait)
	wait_for "$2" "$3" "${4-0}"
	;;
confirm | release | reject)
	[ -d "$state/$2" ] && : >"$state/$2/$1" && say "$1=$2"
	;;
*)
	say "usage: agent.sh status|start|wait|confirm|release|reject|reboot ..." >&2
	exit 64
	;;
esac
