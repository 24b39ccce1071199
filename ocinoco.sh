#!/usr/bin/env bash
# ocinoco: build OCI images with no container, by composing oci-tar, oci-digest, oci-fetch,
# oci-graft and oci-put. See ocinoco(1).
set -euo pipefail

prog=ocinoco
# make writes the contents of the file VERSION here when it builds or installs the script.
version=@VERSION@
# The sibling programs of this script win over PATH, so a build tree runs its own programs.
# (Builtins only where they do: every fork here is paid on every run.)
self=${BASH_SOURCE[0]}
[ ! -L "$self" ] || self=$(readlink -f -- "$self")
case $self in
*/*) here=${self%/*} ;;
*) here=. ;;
esac
[ "${here#/}" != "$here" ] || here=$PWD/$here
if [ -x "$here/oci-tar" ]; then
	PATH="$here:$PATH"
fi
# Debian's bash-builtins: mktemp, mkdir, mkfifo and rm run in this shell (a build makes a
# temporary directory, FIFOs, and removes them: ~2 ms a fork and exec). Loaded by absolute path
# only (bash's own search path ends in "."); without the package, the programs.
fast_mktemp=0
for loadable in mktemp mkdir mkfifo rm; do
	if [ -r "/usr/lib/bash/$loadable" ] && enable -f "/usr/lib/bash/$loadable" "$loadable" 2>/dev/null; then
		[ "$loadable" != mktemp ] || fast_mktemp=1
	fi
done

usage() {
	cat <<USAGE
usage: ocinoco build DIR --from BASE --tag TAG [--push | --output DEST] [options]
       ocinoco index --tag TAG [--tag TAG]... IMAGE... [options]
       ocinoco pack DIR OUT [options]
       ocinoco --help | --version | COMMAND --help
USAGE
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The usage that usage_die shows: a subcommand sets its own.
usage_fn=usage

usage_die() {
	echo "$prog: $*" >&2
	"$usage_fn" >&2
	exit 2
}

# Shared by the subcommands' option loops: $1 is the subcommand, $2 the option, $3 its value
# (absent when the option ended the command line).
need_value() {
	[ $# -ge 3 ] || usage_die "$1: $2 needs a value"
}

# tmp_make: the temporary directory of this run, in tmp.
# (The builtin's failure says no why: the program says it. exec runs a program, never a
# builtin; where a message names a path for the user, a subshell runs one.)
tmp_make() {
	[ "$fast_mktemp" = 1 ] && mktemp -d -v tmp "${TMPDIR:-/tmp}/ocinoco.XXXXXX" >/dev/null 2>&1 ||
		tmp=$(exec mktemp -d "${TMPDIR:-/tmp}/ocinoco.XXXXXX")
}

# The temporary directory of this run, and the partial outputs (files and directories next
# to where the outputs go), removed on every exit (success, failure, ^C) once the jobs of the
# run (build) are stopped.
tmp=
partial=
partials=()
# The oci-put manifest started early (put_early): its pid, the write end of its stdin, and
# the read end of what it says of the previous image.
put_pid='' put_fd='' put_said=''
cleanup() {
	stop_jobs
	put_stop
	build_remember_wait
	[ -z "$partial" ] || rm -f -- "$partial"
	[ ${#partials[@]} -eq 0 ] || rm -rf -- "${partials[@]}"
	[ -z "$tmp" ] || rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# pipeline_status STATUS...: returns a pipeline's status from its stages' (PIPESTATUS): 2 when a
# stage saw a usage error (the stages after it then only saw no input), else the last failing
# stage's, whose failure broke the pipe of those before it; 0 when none failed.
pipeline_status() {
	local i st
	for st in "$@"; do
		[ "$st" -ne 2 ] || return 2
	done
	for ((i = $#; i > 0; i--)); do
		[ "${!i}" -eq 0 ] || return "${!i}"
	done
}

pack_usage() {
	cat <<USAGE
usage: ocinoco pack DIR OUT [--root-dir PATH] [--uid N] [--gid N] [--mtime EPOCH|keep]
                   [--exclude PATTERN]... [--exclude-from FILE]
                   [--compression zstd|gzip|none] [-l LEVEL] [-T N]
USAGE
}

# pack: oci-tar DIR | oci-digest > OUT, and OUT appears only if both succeeded.
cmd_pack() {
	usage_fn=pack_usage
	local -a tar_opts=() digest_opts=() args=()
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) pack_usage && return 0 ;;
		--root-dir | --uid | --gid | --mtime | --exclude | --exclude-from)
			need_value pack "$@" && tar_opts+=("$1" "$2") && shift ;;
		--compression) need_value pack "$@" && digest_opts+=(-c "$2") && shift ;;
		-l | -T) need_value pack "$@" && digest_opts+=("$1" "$2") && shift ;;
		--) shift && args+=("$@") && break ;;
		-?*) usage_die "pack: unknown option: $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[ ${#args[@]} -ge 1 ] || usage_die "pack: missing DIR"
	[ ${#args[@]} -ge 2 ] || usage_die "pack: missing OUT (a file, or - for stdout)"
	[ ${#args[@]} -eq 2 ] || usage_die "pack: unexpected argument: ${args[2]}"
	local dir=${args[0]} out=${args[1]}

	tmp_make
	local layer=-
	if [ "$out" != - ]; then
		[ ! -d "$out" ] || die "pack: $out: is a directory"
		# The layer is written next to OUT and renamed onto it: same file system, and OUT is
		# either the old file or the whole new layer, never a part.
		local out_dir=. out_base=$out why
		if [[ $out == */* ]]; then
			out_dir=${out%/*} out_base=${out##*/}
		fi
		if ! why=$(exec mktemp "${out_dir:-/}/.$out_base.pack-XXXXXX" 2>&1); then
			die "pack: $out: ${why##*: }"
		fi
		partial=$why layer=$why
		# oci-tar would meet the layer being written, and fail on it or store it.
		local dir_abs out_abs
		if [ -d "$dir" ] && dir_abs=$(cd -- "$dir" && pwd -P) &&
			out_abs=$(cd -- "${out_dir:-/}" && pwd -P) &&
			[[ $out_abs/ == "${dir_abs%/}"/* ]]; then
			usage_die "pack: $out is inside $dir: write the layer elsewhere"
		fi
	fi

	local -a status=(0 0)
	local rc=0
	oci-tar "${tar_opts[@]}" -- "$dir" |
		oci-digest "${digest_opts[@]}" -o "$layer" -d "$tmp/descriptor" || status=("${PIPESTATUS[@]}")
	pipeline_status "${status[@]}" || rc=$?
	case $rc in
	0) ;;
	2) exit 2 ;;
	*) die "pack: failed (oci-tar exit ${status[0]}, oci-digest exit ${status[1]}): no layer written" ;;
	esac

	local descriptor
	read -r descriptor <"$tmp/descriptor"
	if [ "$out" = - ]; then
		printf '%s\n' "$descriptor" >&2
	else
		mv -f -- "$partial" "$out"
		partial=
		printf '%s\n' "$descriptor"
	fi
}

build_usage() {
	cat <<USAGE
usage: ocinoco build DIR --from BASE|scratch --tag TAG [--tag TAG]...
                     [--push | --output oci:DIR | --output FILE.tar]
                     [--platform all|OS/ARCH[/VARIANT][,...]]... [--compression zstd|gzip|none]
                     [--root-dir PATH] [--uid N] [--gid N] [--mtime EPOCH|keep]
                     [--exclude PATTERN]... [--exclude-from FILE]... [--layer PATTERN]...
                     [--cache DIR | --no-cache] [--cache-from REF]...
                     [--entrypoint CMD] [--cmd CMD] [--env K=V]... [--workdir DIR]
                     [--user USER[:GROUP]] [--label K=V]... [--expose PORT[/PROTO]]...
                     [--healthcheck CMD|NONE] [--healthcheck-interval D]
                     [--healthcheck-timeout D] [--healthcheck-start-period D]
                     [--healthcheck-retries N] [--stop-signal SIG] [--volume PATH]...
                     [--shell JSON] [--annotation K=V]... [--annotate-source]
                     [--created TIME|now]
                     [-q] [--digest-file FILE] [-v] [--insecure] [--cacert FILE]
USAGE
}

# The background jobs of a build. Each runs in a process group of its own (set -m while it
# starts), so that stopping a job stops all of a pipeline (oci-tar | oci-digest | oci-put); and
# this shell waits for them with the wait builtin, which a signal interrupts at once (a
# foreground command would hold the trap back until it ended).
running=()
declare -A layer_of=() # the layer (its index in the plan) of a layer job, by pid
start_job() { # CMD...: starts CMD in the background; its pid in job_pid
	set -m
	background "$@"
	job_pid=$!
	set +m
	running+=("$job_pid")
}
background() { # CMD...: starts CMD in the background (its pid in $!), stdin /dev/null
	if [ -n "$put_fd" ]; then
		# (the early oci-put manifest sees the end of its stdin when this shell closes it)
		"$@" </dev/null {put_fd}>&- &
	else
		"$@" </dev/null &
	fi
}

# run_job CMD...: runs CMD as a job and waits for it (status in job_rc).
run_job() {
	start_job "$@"
	job_rc=0
	wait "$job_pid" || job_rc=$?
	forget_job "$job_pid"
}

# watch_job CMD...: start_job, for a stage that waits for whichever of its jobs ends first
# (wait_any_job): the job says its pid on $tmp/jobs (jobs_fd, a FIFO this shell holds open both
# ways) as it exits, however it does (a function's exit, a signal's trap). (bash 5.2's
# wait -n cannot be trusted with that: under strace -f, with a process substitution open, it
# was seen returning 127 with no job named while one was left, and waiting for ever on a job
# already gone; a wait for one pid does neither.)
jobs_fd=''
watch_job() {
	if [ -z "$jobs_fd" ]; then
		mkfifo -m 0600 "$tmp/jobs"
		exec {jobs_fd}<>"$tmp/jobs"
	fi
	start_job job_report "$@"
}
job_report() {
	trap 'echo "$BASHPID" >&"$jobs_fd"' EXIT
	"$@"
}

# wait_any_job: waits until a job of running (started by watch_job) ends, and forgets it: its
# pid in done_pid, its status (wait's) in job_rc. A job gone without a word (SIGKILL) is found
# within a second.
wait_any_job() {
	local p
	while :; do
		if read -r -t 1 done_pid <&"$jobs_fd"; then
			# (a line of a job found gone earlier, and waited for then, is none of these)
			[[ " ${running[*]} " == *" $done_pid "* ]] || continue
		else
			done_pid=''
			for p in "${running[@]}"; do
				kill -0 "$p" 2>/dev/null || { done_pid=$p && break; }
			done
			[ -n "$done_pid" ] || continue
		fi
		job_rc=0
		wait "$done_pid" || job_rc=$?
		forget_job "$done_pid"
		return 0
	done
}

forget_job() {
	local -a left=()
	local p
	for p in "${running[@]}"; do
		[ "$p" = "$1" ] || left+=("$p")
	done
	running=("${left[@]}")
}

# Stops every job still running (SIGTERM to its process group: the programs remove their
# temporary files on it) and waits for it, so that nothing writes into the temporary
# directory while it is removed. (A job that is a pipeline waits for its programs itself.)
stop_jobs() {
	local p
	[ ${#running[@]} -gt 0 ] || return 0
	for p in "${running[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || true
	done
	for p in "${running[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	running=()
}

# Seconds since $1 (an $EPOCHREALTIME), as 0.42.
elapsed() {
	local now=${EPOCHREALTIME//[.,]/} then=${1//[.,]/} us
	us=$((10#$now - 10#$then))
	printf '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
}

# What the build did, on stderr (not with -q).
note() {
	[ "$quiet" = 1 ] || echo "$prog: build: $*" >&2
}

# A stage failed: its own message is on stderr already; say what it means for the build.
# Exit 2 when the stage saw a usage error (an option value it refused), else 1.
build_failed() { # STATUS MESSAGE
	echo "$prog: ${subcommand:-build}: $2: nothing $nothing" >&2
	[ "$1" -eq 2 ] && exit 2
	exit 1
}

# The layer plan: layer I (0 lowest) of the --layer patterns, the top one (I = ${#layers[@]})
# the rest. Its oci-tar options in part_opts, what its history entry says in part_name, what
# the cache records a build here made (oci-cache seen, put --recipe) in part_recipe.
layer_part() {
	local i=$1 k
	part_opts=("${tar_opts[@]}")
	for ((k = 0; k < i && k < ${#layers[@]}; k++)); do
		part_opts+=(--skip "${layers[k]}")
	done
	if [ "$i" -lt ${#layers[@]} ]; then
		part_opts+=(--only "${layers[i]}")
		part_name="ocinoco build $dir --layer ${layers[i]}"
	else
		part_name="ocinoco build $dir"
	fi
	part_recipe="$abs_dir ${part_opts[*]} $compression"
}

# layer_reuse I DIGEST [LOCATION]...: the blob of a layer the cache knows, to be present where
# the image goes, with no byte of it sent when the sink has it. Seen there by the cache (a
# LOCATION is where the image goes): no program runs here; the one oci-put manifest run of the
# build HEADs it with the other blobs. Should that run find it nowhere (exit 66), the build
# starts again with every hit probed first (OCINOCO_PROBE_HITS=1). A probe (then, and for a
# blob seen only elsewhere, whose location may be long gone) is one oci-put blob run: HEAD;
# else a mount or copy from the first LOCATION; false when it is nowhere (the layer is made).
layer_reuse() {
	[ -n "$sink" ] || return 0
	local i=$1 digest=$2 loc from=
	shift 2
	for loc; do
		if [ "$loc" = "$here_location" ]; then
			[ "$probe_hits" = 1 ] || return 0
		elif [ -z "$from" ]; then
			from=$loc
		fi
	done
	local -a src=()
	[ -z "$from" ] || src=(--from "$from")
	# A probe: a location that does not answer now (a registry gone since the cache saw the
	# blob there) is no reason to wait out retries: the layer is made again instead.
	OCINOCO_MAX_WAIT=0 oci-put "${net_opts[@]}" blob "${src[@]}" "$sink" "$digest" >/dev/null \
		2>"$tmp/layer.$i.reuse-err"
}

# The --cache-from images (manifest and config, for this machine's platform unless several
# are built: any platform's image of REF has the same layers), fetched at once by the first
# layer that misses the local cache, under a lock the others wait on; from.N.found for each one
# found. A previous image that does not exist (the default's first build) costs a request, not
# a read of the tree; a build whose layers all hit the cache fetches nothing.
previous_fetch_once() {
	local n lock
	local -a pids=() plat=()
	[ ! -e "$tmp/from.done" ] || return 0 # (made once all is there: no lock needed to see it)
	[ "$multi" = 1 ] || [ -z "$platform" ] || plat=(--platform "$platform")
	exec {lock}>>"$tmp/from.lock"
	flock -x "$lock"
	if [ ! -e "$tmp/from.done" ] && ! previous_from_put; then
		for n in "${!cache_from[@]}"; do
			oci-fetch "${net_opts[@]}" "${doc_cache[@]}" "${plat[@]}" -o "$tmp/from.$n.json" \
				--config-out "$tmp/from.$n.config" "${cache_from[n]}" \
				2>"$tmp/from.$n.err" </dev/null {lock}<&- &
			pids+=($!)
		done
		for n in "${!pids[@]}"; do
			if wait "${pids[n]}"; then
				: >"$tmp/from.$n.found"
			elif [ "${cache_from[n]}" != "$default_cache_from" ]; then
				echo "$prog: build: warning: --cache-from ${cache_from[n]}: cannot be read, not used" >&2
			fi
		done
	fi
	[ -e "$tmp/from.done" ] || : >"$tmp/from.done"
	exec {lock}>&-
}

# Level 2: the layer's diffID (tar + sha256, no compression) against the layers of the
# --cache-from images. True when one matched: descriptor in layer.I.json, and the signature of
# this pass's walk (sig_out) in layer.I.sig.
layer_from_previous() {
	local i=$1 ref n digest tar_pid='' digest_pid='' st0=0 st1=0 apart=''
	local -a found=() sig_diffid=()
	# A layer made meanwhile writes its own descriptor and signature: this pass's go apart,
	# and are moved onto them on a match.
	[ -z "$make_tar" ] || apart=.reused
	[ ${#sig_out[@]} -eq 0 ] || sig_diffid=(--signature-out "$tmp/layer.$i$apart.sig")
	# The diffID pass goes while the previous images are fetched (a far registry's answer
	# takes round trips); stopped if none of them is there. The layer made meanwhile
	# (speculative) has the processors until one is: then it pauses for the diffID pass.
	# (Its errors are the layer pipeline's too, which says them.)
	[ -n "$make_tar" ] || layer_diffid_start
	# (this job's own previous_fetch_once, started with it, ends once all is there)
	if [ -n "$previous_pid" ]; then
		wait "$previous_pid" || true
	else
		previous_fetch_once
	fi
	for n in "${!cache_from[@]}"; do
		[ ! -e "$tmp/from.$n.found" ] || found+=("$n")
	done
	if [ ${#found[@]} -eq 0 ]; then
		[ -z "$tar_pid" ] || kill "$tar_pid" "$digest_pid" 2>/dev/null || true
		[ -z "$tar_pid" ] || wait "$tar_pid" "$digest_pid" 2>/dev/null || true
		return 1
	fi
	if [ -z "$tar_pid" ]; then
		layer_make_signal STOP
		layer_diffid_start
	fi
	wait "$tar_pid" || st0=$?
	wait "$digest_pid" || st1=$?
	if [ "$st0" -ne 0 ] || [ "$st1" -ne 0 ]; then
		layer_make_signal CONT
		return 1
	fi
	for n in "${found[@]}"; do
		ref=${cache_from[n]}
		digest=$(oci-cache match -d "$tmp/layer.$i$apart.json" -c "$compression" \
			"$tmp/layer.$i.tar.json" "$tmp/from.$n.json" "$tmp/from.$n.config") || continue
		if [ "$probe_hits" = 1 ]; then
			layer_reuse "$i" "$digest" "$ref" || continue
		elif [ -n "$sink" ]; then
			# REF just answered: oci-put manifest mounts or copies its blob (--from REF)
			echo "$ref" >"$tmp/layer.$i.from"
		fi
		# (the layer being made meanwhile, if it is, writes its own descriptor until stopped)
		layer_make_stop
		if [ -n "$apart" ]; then
			mv -f -- "$tmp/layer.$i$apart.json" "$tmp/layer.$i.json"
			[ ${#sig_diffid[@]} -eq 0 ] || mv -f -- "$tmp/layer.$i$apart.sig" "$tmp/layer.$i.sig"
		fi
		echo "$digest" >"$tmp/layer.$i.digest"
		echo "reused from $ref" >"$tmp/layer.$i.how"
		return 0
	done
	layer_make_signal CONT
	return 1
}

# The diffID pass of layer_from_previous (its tar_pid, digest_pid, sig_diffid).
# (--raw: the stream is this oci-tar's, whose status says whether it is whole; the check of
# every header, 15% of oci-digest's time here, would only say it again)
layer_diffid_start() {
	local pfd
	exec {pfd}> >(exec oci-digest -c none --raw -d "$tmp/layer.$i.tar.json" >/dev/null 2>"$tmp/layer.$i.diffid-err")
	digest_pid=$!
	oci-tar "${part_opts[@]}" "${sig_diffid[@]}" -- "$dir" >&"$pfd" 2>>"$tmp/layer.$i.diffid-err" {pfd}>&- &
	tar_pid=$!
	exec {pfd}>&-
}

# The layer I of the plan, a job: known from the local cache (level 1) or a previous image
# (level 2) and made present where the image goes; else oci-tar | oci-digest [| oci-put blob
# SINK -]. Writes layer.I.json (descriptor), layer.I.digest, layer.I.how (what happened, or
# "empty": left out), layer.I.key (the cache key to store, when it may be), layer.I.status (the
# stages' statuses) and exits with the pipeline's status.
layer_job() {
	# SIGTERM reaches the whole group: this shell exits once its pipeline has (a trap waits
	# for the foreground pipeline), so no program of it is left behind for stop_jobs.
	trap 'layer_make_stop; layer_upload_end stop; exit 143' TERM
	blob_pid='' previous_pid='' hold_fd='' make_tar='' make_digest=''
	local i=$1 line sig='' flags='' top=0 made_here=0
	local -a hit st sig_out=()
	layer_part "$i"
	[ "$i" -lt ${#layers[@]} ] || [ ${#layers[@]} -eq 0 ] || top=1
	if [ "$read_once" = 0 ] && { [ "$use_cache" = 1 ] || [ "$top" = 1 ]; }; then
		# Whether a build here made this layer (build_inputs asked, layer_seen): if none did
		# there is no entry to find, and the layer is made (or found in a previous image) at
		# once, its signature taken by the archive's own walk; else the walk comes first.
		if [ "$use_cache" = 1 ] && [ "${layer_seen[i]:-}" != seen ]; then
			# no entry to find: the previous images' fetch goes first, the rest meanwhile
			[ ${#cache_from[@]} -eq 0 ] || {
				previous_fetch_once &
				previous_pid=$!
			}
			sig_out=(--signature-out "$tmp/layer.$i.sig")
		else
			[ "$use_cache" = 0 ] || made_here=1
			# (waited for: stopped with the job, it is no foreground command bash reports)
			oci-tar --signature "${part_opts[@]}" -- "$dir" >"$tmp/layer.$i.walk" \
				2>"$tmp/layer.$i.walk-err" &
			wait $! || {
				local rc=$?
				cat "$tmp/layer.$i.walk-err" >&2
				exit "$rc"
			}
			read -r sig flags <"$tmp/layer.$i.walk"
			if [ "$top" = 1 ] && [[ " $flags " == *" empty "* ]]; then
				echo empty >"$tmp/layer.$i.how"
				return 0
			fi
		fi
	fi
	if [ "$use_cache" = 1 ] && [ ${#sig_out[@]} -eq 0 ]; then
		if mapfile -t hit < <(oci-cache "${cache_opts[@]}" get -d "$tmp/layer.$i.json" \
			"$sig" "$compression") && [ ${#hit[@]} -gt 0 ] &&
			layer_reuse "$i" "${hit[@]}"; then
			echo "${hit[0]}" >"$tmp/layer.$i.digest"
			echo "reused from the cache" >"$tmp/layer.$i.how"
			# A hit where the image goes is not stored again.
			[[ " ${hit[*]:1} " == *" $here_location "* ]] ||
				echo "$sig $compression" >"$tmp/layer.$i.key"
			return 0
		fi
		[[ " $flags " == *" racy "* ]] || echo "$sig $compression" >"$tmp/layer.$i.key"
	fi
	# The default previous image (the first tag) is for a layer no build here made (a fresh
	# checkout, an empty cache); one this cache saw made from this directory and missed has
	# changed since, and is made at once. A --cache-from given is always asked.
	local digest_cmd=(oci-digest "${digest_opts[@]}" -d "$tmp/layer.$i.json" --digest-out "$tmp/layer.$i.digest")
	make_tar=''
	if [ ${#cache_from[@]} -gt 0 ] && { [ "$made_here" = 0 ] || [ -z "$default_cache_from" ]; }; then
		if [ -n "$default_cache_from" ] && [[ $sink != oci:* ]]; then
			# The default previous image of a push: absent on a first build, so the layer is
			# made meanwhile, its upload held until the answer.
			layer_upload_start held
			layer_make_start
		elif [ "$top" = 1 ]; then
			# The top layer (the code: it changes most) opens its upload while its diffID
			# is made; a --layer one (dependencies) is likely in REF, and opens none.
			layer_upload_start early
		fi
		if layer_from_previous "$i"; then
			# It had nothing to send: a failure of it (said on stderr) is none of the
			# layer's, which is in REF (the manifest's push meets the registry again).
			layer_upload_end drop || true
			layer_signed
			return 0
		fi
	fi
	echo made >"$tmp/layer.$i.how"
	[ -n "$make_tar" ] || layer_make_start
	layer_upload_end send
	st=(0 0)
	wait "$make_tar" || st[0]=$?
	wait "$make_digest" || st[1]=$?
	layer_make_said "${st[0]}"
	if [ -n "$sink" ]; then
		# (oci-digest's SIGPIPE: oci-put went away, and its own status says why)
		if [ "${st[*]}" = "0 0" ] || [ "${st[1]}" = 141 ]; then
			local put=0
			layer_upload_end || put=$?
			st[2]=$put
		else
			layer_upload_end stop # what it holds is not the layer: nothing of it is kept
		fi
		[ "${st[*]}" != "0 0 75" ] || replay_layer
	fi
	echo "${st[*]}" >"$tmp/layer.$i.status"
	pipeline_status "${st[@]}" || return
	layer_signed
}

# layer_make_start: the layer made, oci-tar | oci-digest [> its upload], in the background (pids
# in make_tar and make_digest); what oci-digest says in layer.I.digest-err (layer_make_said).
layer_make_start() {
	local pfd
	if [ -n "$sink" ]; then
		[ -n "$blob_pid" ] || layer_upload_start
		exec {pfd}> >(exec "${digest_cmd[@]}" 1>&"$blob_fd" 2>"$tmp/layer.$i.digest-err")
	else
		exec {pfd}> >(exec "${digest_cmd[@]}" >/dev/null 2>"$tmp/layer.$i.digest-err")
	fi
	make_digest=$!
	oci-tar "${part_opts[@]}" "${sig_out[@]}" -- "$dir" >&"$pfd" {pfd}>&- &
	make_tar=$!
	exec {pfd}>&-
}

# layer_make_said TAR_STATUS: what oci-digest said, on stderr; not when oci-tar failed, whose
# message says why (oci-digest's, of a stream cut short, would only follow from it).
layer_make_said() {
	[ "$1" -ne 0 ] || [ ! -s "$tmp/layer.$i.digest-err" ] || cat -- "$tmp/layer.$i.digest-err" >&2
}

# layer_make_signal STOP|CONT: the layer being made (if it is) paused or resumed.
layer_make_signal() {
	[ -z "$make_tar" ] || kill "-$1" "$make_tar" "$make_digest" 2>/dev/null || true
}

# layer_make_stop: the layer being made is not needed (found elsewhere, or the job is stopped):
# stopped (even paused), reaped.
layer_make_stop() {
	[ -n "$make_tar" ] || return 0
	layer_make_signal TERM
	layer_make_signal CONT
	wait "$make_tar" "$make_digest" 2>/dev/null || true
	make_tar=''
}

# layer_upload_start [early|held]: the layer's oci-put blob --if-not-empty SINK -, started
# before the layer is made, its stdin a pipe this job holds the write end of (blob_fd; its pid
# in blob_pid). Early (the layer may yet be found in a previous image, level 2), only into a
# registry: its connection, auth and upload session then go while the previous image is fetched,
# not after; a layout's costs no round trip. Held: what it reads is not sent until
# layer_upload_end send (--hold: a FIFO this job holds open, hold_fd).
layer_upload_start() {
	[ "${1:-}" = '' ] || { [ -n "$sink" ] && [[ $sink != oci:* ]]; } || return 0
	local -a hold=()
	if [ "${1:-}" = held ]; then
		mkfifo -m 0600 "$tmp/layer.$i.hold"
		exec {hold_fd}<>"$tmp/layer.$i.hold"
		hold=(--hold "$tmp/layer.$i.hold")
	fi
	exec {blob_fd}> >(exec oci-put "${net_opts[@]}" "${put_quiet[@]}" blob --if-not-empty "${hold[@]}" "$sink" - >/dev/null)
	blob_pid=$!
}

# layer_upload_end [send|drop|stop]: send or drop tells a held upload what to do with what it
# reads, and returns. Else the upload's pipe is closed and its oci-put reaped, with its status.
# Nothing written to it: it sends nothing (its session cancelled). With stop (a stage before it
# failed, or the job is stopped), it is killed first: it must not take what it holds for a
# layer.
layer_upload_end() {
	local pid=${blob_pid:-} rc=0
	if [ -n "${hold_fd:-}" ]; then
		case ${1:-} in
		send | drop) echo "$1" >&"$hold_fd" ;;
		esac
		exec {hold_fd}>&-
		hold_fd=''
	fi
	[ "${1:-}" != send ] || return 0
	[ -n "$pid" ] || return 0
	blob_pid=''
	if [ "${1:-}" = stop ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		exec {blob_fd}>&-
		return 0
	fi
	exec {blob_fd}>&-
	wait "$pid" || rc=$?
	return "$rc"
}

# The signature the archive's walk took (--signature-out, layer_job's sig_out): the layer's
# cache key unless racy; an empty top layer is left out.
layer_signed() {
	[ ${#sig_out[@]} -gt 0 ] || return 0
	read -r sig flags <"$tmp/layer.$i.sig"
	if [ "$top" = 1 ] && [[ " $flags " == *" empty "* ]]; then
		echo empty >"$tmp/layer.$i.how"
	fi
	[[ " $flags " == *" racy "* ]] || echo "$sig $compression" >"$tmp/layer.$i.key"
}

# replay_layer: oci-put lost the layer's stream past the bytes it holds (exit 75; oci-digest,
# which saw the whole stream, wrote its digest to $tmp/layer.$i.digest; i, part_opts and
# part_name are layer_job's). The layer is made again
# from DIR, byte for byte the same (docs/DESIGN.md, Determinism), and sent again with --expect:
# oci-put HEADs it first (it may be there now), and exits 65 if the bytes are not the expected
# ones: DIR changed meanwhile. At most two replays. Sets st, as the pipeline of layer_job does
# (whose digest_cmd it runs again).
replay_layer() {
	local expect tries
	for ((tries = 1; tries <= 2; tries++)); do
		[ "${st[*]}" = "0 0 75" ] && read -r expect <"$tmp/layer.$i.digest" || return 0
		note "the upload of the layer of ${part_name#ocinoco build } broke off past what oci-put holds: making it again ($expect)"
		st=(0 0 0)
		oci-tar "${part_opts[@]}" -- "$dir" | "${digest_cmd[@]}" |
			oci-put "${net_opts[@]}" "${put_quiet[@]}" blob --expect "$expect" "$sink" - >/dev/null ||
			st=("${PIPESTATUS[@]}")
		if [ "${st[*]}" = "0 0 65" ]; then
			echo "$prog: build: $dir changed while its layer was uploaded (the layer made again is not $expect)" >&2
		fi
	done
}

layer_statuses() {
	local -a st=() names=(oci-tar oci-digest oci-put)
	local i why=
	[ ! -s "$tmp/layer.$1.status" ] || read -ra st <"$tmp/layer.$1.status"
	for i in "${!st[@]}"; do
		why+="${why:+, }${names[i]} exit ${st[i]}"
	done
	printf '%s\n' "${why:-oci-tar --signature failed}"
}

# commit_partial PARTIAL PATH: renames a finished partial output (file or directory) onto
# PATH, with the mode a new one gets (mktemp makes it 0600 or 0700).
commit_partial() {
	local mode=0666
	[ ! -d "$1" ] || mode=0777
	chmod "$(printf '%o' $((mode & ~$(umask))))" -- "$1"
	mv -fT -- "$1" "$2"
}

# digest_file_partial COMMAND: --digest-file's partial file next to it (digest_partial), or none.
digest_file_partial() {
	digest_partial=
	[ -n "$digest_file" ] || return 0
	[ ! -d "$digest_file" ] || die "$1: $digest_file: Is a directory"
	partial_next_to "$digest_file"
	digest_partial=$partial_path
}

# partial_next_to PATH: a new temporary file (-d: directory) next to PATH, removed on exit
# unless renamed; its name in $partial_path.
partial_next_to() {
	local flag=
	if [ "$1" = -d ]; then
		flag=-d
		shift
	fi
	local path=$1 dir=. base=$1 why
	if [[ $path == */* ]]; then
		dir=${path%/*} base=${path##*/}
	fi
	why=$(exec mktemp $flag "${dir:-/}/.$base.ocinoco-XXXXXX" 2>&1) || die "build: $path: ${why##*: }"
	partial_path=$why
	partials+=("$why")
}

# --annotate-source: where the image comes from, as far as the facts are at hand: the git
# checkout DIR is in (its origin, its HEAD commit, and the commit's time as the created time
# unless SOURCE_DATE_EPOCH gives one) and DIR/package.json's version. Adds to graft_opts.
source_annotations() {
	local url rev
	graft_opts+=(--annotate-created)
	[ ! -f "$dir/package.json" ] || graft_opts+=(--version-from "$dir/package.json")
	if ! rev=$(git -C "$dir" rev-parse --verify -q HEAD 2>/dev/null); then
		note "--annotate-source: $dir is not in a git checkout with a commit: no source or revision"
		return 0
	fi
	graft_opts+=(--revision "$rev")
	! url=$(git -C "$dir" remote get-url origin 2>/dev/null) || graft_opts+=(--source-url "$url")
	[ -n "$graft_epoch" ] || graft_epoch=$(git -C "$dir" log -1 --format=%ct HEAD)
}

# The command line, routed: each option to the program that takes it. (An option's value is
# shifted in its arm, the option by the loop.)
build_options() {
	args=() from='' platform='' push=0 output='' digest_file='' quiet=0 annotate_source=0
	tar_opts=() digest_opts=() graft_opts=() net_opts=() tags=() platforms=() layers=() cache_from=()
	put_quiet=()
	use_cache=1 cache_opts=() doc_cache=(--default-cache) compression=zstd read_once=0
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) build_usage && exit 0 ;;
		--root-dir | --uid | --gid | --mtime | --exclude | --exclude-from)
			need_value build "$@" && tar_opts+=("$1" "$2")
			# a FIFO or /dev/fd/N (<(...)) can be read once: by the layer's oci-tar alone
			[ "$1" != --exclude-from ] || [ -f "$2" ] || read_once=1
			shift
			;;
		--compression) need_value build "$@" && digest_opts+=(-c "$2") && compression=$2 && shift ;;
		--layer) need_value build "$@" && layers+=("$2") && shift ;;
		--cache)
			need_value build "$@" && cache_opts=(--dir "$2") && doc_cache=(--cache "$2")
			use_cache=1 && shift
			;;
		--no-cache) use_cache=0 doc_cache=() ;;
		--cache-from) need_value build "$@" && cache_from+=("$2") && shift ;;
		--entrypoint | --cmd | --env | --workdir | --user | --label | --expose | --annotation | --created | \
			--healthcheck | --healthcheck-interval | --healthcheck-timeout | --healthcheck-start-period | \
			--healthcheck-retries | --stop-signal | --volume | --shell)
			need_value build "$@" && graft_opts+=("$1" "$2") && shift ;;
		--from) need_value build "$@" && from=$2 && shift ;;
		--tag) need_value build "$@" && tags+=("$2") && shift ;;
		--platform) need_value build "$@" && platforms+=("$2") && shift ;;
		--push) push=1 ;;
		--output)
			need_value build "$@"
			[ -z "$output" ] || usage_die "build: --output given twice"
			output=$2 && shift
			;;
		--digest-file) need_value build "$@" && digest_file=$2 && shift ;;
		--cacert) need_value build "$@" && net_opts+=("$1" "$2") && shift ;;
		--insecure | -v | --verbose) net_opts+=("$1") ;;
		-q | --quiet) quiet=1 && put_quiet=(-q) ;; # and no progress line from oci-put
		--annotate-source) annotate_source=1 ;;
		--) shift && args+=("$@") && break ;;
		-?*) usage_die "build: unknown option: $1" ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[ "$read_once" = 0 ] || use_cache=0
}

# Every check that needs no work, before any is done: a typo is a usage error, not a build
# that fails after its upload. The references by the programs' parser (oci-fetch --name, which
# gives BASE's full name for --base-name, and checks a list of platforms), the changes and one
# platform by oci-graft's. Several platforms (a list, or all the base has: multi=1) make an
# index.
build_check() {
	[ ${#args[@]} -ge 1 ] || usage_die "build: missing DIR"
	[ ${#args[@]} -eq 1 ] || usage_die "build: unexpected argument: ${args[1]}"
	dir=${args[0]}
	[ -n "$from" ] || usage_die "build: missing --from BASE (an image, oci:DIR or scratch)"
	[ ${#tags[@]} -gt 0 ] || usage_die "build: missing --tag TAG"
	[ "$push" = 0 ] || [ -z "$output" ] || usage_die "build: --push and --output exclude each other"
	case $output in
	oci:) usage_die "build: --output oci:DIR needs a DIR" ;;
	oci:*:*) usage_die "build: --output $output: oci:DIR takes no tag (--tag names the image)" ;;
	-) usage_die "build: --output -: give a FILE (the archive is written next to it first)" ;;
	esac
	local t names
	local -a refs=("${tags[@]}") selection=()
	tag_names=()
	multi=0
	if [ ${#platforms[@]} -gt 0 ]; then
		platform=$(IFS=,; printf '%s' "${platforms[*]}")
	fi
	case $platform in
	all | *,*)
		multi=1 selection=(--platform "$platform")
		[ "$from" != scratch ] || usage_die "build: --platform $platform: --from scratch has no platforms to choose from (give one --platform)"
		;;
	esac
	[ "$from" = scratch ] || [[ $from == oci:* ]] || refs+=("$from")
	# oci-graft checks the changes while oci-fetch names the references
	local -a check=(oci-graft --check "${graft_opts[@]}")
	[ -z "$platform" ] || [ "$multi" = 1 ] || check+=(--platform "$platform")
	local checking
	"${check[@]}" &
	checking=$!
	# (and the cache says which layers a build here made: layers_seen reads it)
	abs_dir=''
	[ ! -d "$dir" ] || ! abs_dir=$(cd -- "$dir" 2>/dev/null && pwd -P) || layers_seen_start
	# The --cache-from references too, in the same run (put_early passes them on): one that
	# is none is a warning later, not a usage error, so a failure is asked again without them.
	local -a froms=()
	for t in "${cache_from[@]}"; do
		[[ $t == oci:* ]] || froms+=("$t")
	done
	cache_from_named=0
	if [ ${#froms[@]} -gt 0 ] &&
		names=$(oci-fetch --name "${selection[@]}" "${refs[@]}" "${froms[@]}" 2>/dev/null); then
		cache_from_named=1
	else
		names=$(oci-fetch --name "${selection[@]}" "${refs[@]}") || {
			wait "$checking" || true
			usage_die "build: --tag or --from: not an image reference (REGISTRY/REPOSITORY[:TAG])${selection:+, or --platform: not OS/ARCH[/VARIANT] or all}"
		}
	fi
	mapfile -t tag_names <<<"$names"
	base_name=
	[ ${#refs[@]} -eq ${#tags[@]} ] || base_name=${tag_names[${#tags[@]}]}
	tag_names=("${tag_names[@]:0:${#tags[@]}}")
	for t in "${!tags[@]}"; do
		[[ ${tag_names[t]} != oci:* && ${tag_names[t]} != *@* ]] ||
			usage_die "build: --tag ${tags[t]}: not an image reference with a tag (REGISTRY/REPOSITORY[:TAG])"
	done
	wait "$checking" || exit 2
	[ -e "$dir" ] || die "build: $dir: No such file or directory"
	[ -d "$dir" ] || die "build: $dir: Not a directory"
	[ -n "$abs_dir" ] || abs_dir=$(cd -- "$dir" && pwd -P)
	graft_epoch=${SOURCE_DATE_EPOCH:-}
	[ "$annotate_source" = 0 ] || source_annotations
}

# Where the image goes: mode (push, layout, archive or dry), the layer's sink, the layout
# being written and what "nothing ..." says on failure. A new layout or an archive is made
# next to its place under a temporary name, renamed into place at the end.
build_destination() {
	layout='' layout_partial=''
	if [ "$push" = 1 ]; then
		mode=push nothing=pushed sink=${tags[0]}
	elif [ -z "$output" ]; then
		mode=dry nothing=written sink=
	elif [[ $output == oci:* ]]; then
		mode=layout nothing="tagged in ${output#oci:}" layout=${output#oci:}
		if [ ! -e "$layout" ]; then
			# (the program, not the builtin, for its message: exec in a subshell)
			[[ $layout != */* ]] || [ -d "${layout%/*}" ] || (exec mkdir -p -- "${layout%/*}")
			partial_next_to -d "$layout"
			layout_partial=$partial_path layout=$partial_path
		fi
		sink=oci:$layout
	else
		[ ! -d "$output" ] || die "build: $output: Is a directory"
		mode=archive nothing="written to $output"
		partial_next_to -d "$output"
		layout=$partial_path sink=oci:$partial_path
	fi
	# Where a layer's blob is once the build succeeded, for the cache; and the previous image
	# the layers may come from by default (the first tag, where the image goes).
	here_location='' default_cache_from=''
	case $mode in
	push) here_location=${tag_names[0]} default_cache_from=${tags[0]} ;;
	layout)
		if [ -z "$layout_partial" ]; then
			here_location=oci:$(cd -- "$layout" && pwd -P)
			default_cache_from=oci:$layout:${tag_names[0]##*:}
		else
			here_location=oci:$(cd -- "$(dirname -- "${output#oci:}")" && pwd -P)/$(basename -- "${output#oci:}")
		fi
		;;
	esac
	if [ ${#cache_from[@]} -eq 0 ] && [ -n "$default_cache_from" ] && [ "$use_cache" = 1 ]; then
		cache_from=("$default_cache_from")
	else
		default_cache_from=''
	fi
	digest_file_partial build
}

# 1. The base's manifest, config and digest (several platforms: each one's manifest and config
# into base/), in one oci-fetch run, while the layer is made and streamed to where the image
# goes; the first to fail stops the other.
build_inputs() {
	if [ "$multi" = 1 ]; then
		mkdir "$tmp/base"
		watch_job oci-fetch "${net_opts[@]}" "${doc_cache[@]}" --platform "$platform" \
			--each "$tmp/base" "$from"
	elif [ "$from" != scratch ]; then
		local -a fetch_opts=("${net_opts[@]}" "${doc_cache[@]}")
		[ -z "$platform" ] || fetch_opts+=(--platform "$platform")
		watch_job oci-fetch "${fetch_opts[@]}" -o "$tmp/base.json" \
			--config-out "$tmp/base-config.json" --digest-out "$tmp/base.digest" "$from"
	fi
	local i done_pid
	layer_jobs_start rest
	while [ ${#running[@]} -gt 0 ]; do
		wait_any_job
		[ "$job_rc" -ne 0 ] || continue
		stop_jobs
		[ -n "${layer_of[$done_pid]:-}" ] ||
			build_failed "$job_rc" "cannot read the base image $from"
		i=${layer_of[$done_pid]}
		layer_part "$i"
		build_failed "$job_rc" "the layer of ${part_name#ocinoco build } failed ($(layer_statuses "$i"))"
	done
	# The layers in order, the empty top one left out.
	layer_files=()
	local how digest n=$((${#layers[@]} + 1))
	for ((i = 0; i < n; i++)); do
		read -r how <"$tmp/layer.$i.how"
		layer_part "$i"
		if [ "$how" = empty ]; then
			note "layer ${part_name#ocinoco build }: empty, left out"
			continue
		fi
		read -r digest <"$tmp/layer.$i.digest"
		layer_files+=(--layer "$tmp/layer.$i.json" --created-by "$part_name")
		note "layer $digest of ${part_name#ocinoco build }: $how"
	done
}

# layer_jobs_start early|rest: a job (layer_job) for each layer of the plan, the early ones
# before the programs that start meanwhile (put_early, the base's fetch), the rest after them;
# the layer of a job in layer_of (by pid). Early: a layer a build here made (layer_seen: its
# walk is a rebuild's critical path), and any layer when there is no default previous image
# (only a layer looking for that one reads what put_early says of it).
layer_jobs_start() {
	local i early
	for ((i = 0; i <= ${#layers[@]}; i++)); do
		early=rest
		[ "${layer_seen[i]:-}" != seen ] && [ -n "$default_cache_from" ] || early=early
		[ "$early" = "$1" ] || continue
		watch_job layer_job "$i"
		layer_of[$job_pid]=$i
	done
}

# layers_seen_start, layers_seen: whether a build here made each layer of the plan (its recipe
# recorded), asked of oci-cache seen (one run for all) from the start, read into layer_seen
# (by layer: "seen" or not).
seen_fd=''
layers_seen_start() {
	local i
	local -a recipes=()
	[ "$use_cache" = 1 ] && [ "$read_once" = 0 ] || return 0
	for ((i = 0; i <= ${#layers[@]}; i++)); do
		layer_part "$i"
		recipes+=("$part_recipe")
	done
	exec {seen_fd}< <(exec oci-cache "${cache_opts[@]}" seen "${recipes[@]}" 2>/dev/null)
}
layers_seen() {
	layer_seen=()
	[ -n "$seen_fd" ] || return 0
	mapfile -t -u "$seen_fd" layer_seen
	exec {seen_fd}<&-
	seen_fd=''
}

# build_remember [made]: each layer's cache entry, with where its blob now is, by an oci-cache
# put of its own in the background (a warning at worst; waited for by build_remember_wait).
# "made": only the layers this build sent to the registry the image goes to, there already: their
# entries are put while the image is made and pushed (two builds sharing a cache never clash:
# each entry is its own files).
remember_pids=()
build_remember() {
	[ "$use_cache" = 1 ] || return 0
	local i key how
	local -a at=()
	[ -z "$here_location" ] || at=(--at "$here_location")
	for ((i = 0; i <= ${#layers[@]}; i++)); do
		[ -s "$tmp/layer.$i.key" ] || continue
		if [ "${1:-}" = made ]; then
			read -r how <"$tmp/layer.$i.how"
			[ "$how" = made ] || continue
		fi
		read -r key <"$tmp/layer.$i.key"
		rm -f -- "$tmp/layer.$i.key"
		layer_part "$i"
		# shellcheck disable=SC2086 # the key is words
		background oci-cache "${cache_opts[@]}" put "${at[@]}" --recipe "$part_recipe" \
			"$tmp/layer.$i.json" $key
		remember_pids+=($!)
	done
}
build_remember_wait() {
	local pid
	for pid in "${remember_pids[@]}"; do
		wait "$pid" || true
	done
	remember_pids=()
}

# base_entries: the platforms oci-fetch --each selected ($tmp/base/platforms: "N DIGEST
# PLATFORM" lines) in base_lines; one of them is a plain image, as if it were the only one asked
# for (multi=0, its files where a single-platform fetch puts them).
base_entries() {
	mapfile -t base_lines <"$tmp/base/platforms"
	[ ${#base_lines[@]} -eq 1 ] || return 0
	local n digest p
	read -r n digest p <<<"${base_lines[0]}"
	mv -- "$tmp/base/$n.json" "$tmp/base.json"
	mv -- "$tmp/base/$n.config.json" "$tmp/base-config.json"
	printf '%s\n' "$digest" >"$tmp/base.digest"
	multi=0
}

# graft_platforms: one oci-graft per selected platform ($tmp/config-N.json, $tmp/manifest-N.json)
# and oci-index of them ($tmp/manifest.json, its digest in digest); the files oci-put must make
# present in put_blobs. The annotations go on each child and on the index.
graft_platforms() {
	local line n digest_n p
	local -a children=() names=()
	put_blobs=()
	for line in "${base_lines[@]}"; do
		read -r n digest_n p <<<"$line"
		SOURCE_DATE_EPOCH=$graft_epoch oci-graft --manifest "$tmp/base/$n.json" \
			--config "$tmp/base/$n.config.json" \
			${base_name:+--base-name "$base_name"} "${layer_files[@]}" "${graft_opts[@]}" \
			--config-out "$tmp/config-$n.json" -o "$tmp/manifest-$n.json" ||
			build_failed $? "oci-graft failed for $p"
		children+=(--child "$digest_n=$tmp/manifest-$n.json")
		put_blobs+=(--blob "$tmp/config-$n.json" --blob "$tmp/manifest-$n.json")
		names+=("$p")
	done
	# the index annotated as its children are (--annotation, --annotate-source), but for their
	# own bases
	oci-index --base "$tmp/base/index.json" ${base_name:+--base-name "$base_name"} \
		"${children[@]}" --annotations-of "$tmp/manifest-$n.json" -o "$tmp/manifest.json" \
		--digest-out "$tmp/manifest.digest" || build_failed $? "oci-index failed"
	read -r digest <"$tmp/manifest.digest"
	note "base $from: ${names[*]}"
}

# 2. The new config and manifest (and the manifest's digest); with several platforms, one of
# each per platform and the index of them (one platform selected: a plain image, as without a
# list).
build_graft() {
	local -a base_opts
	put_blobs=(--blob "$tmp/config.json")
	[ "$multi" = 0 ] || base_entries
	if [ "$multi" = 1 ]; then
		graft_platforms
		return
	fi
	if [ "$from" = scratch ]; then
		base_opts=(--scratch)
		[ -z "$platform" ] || base_opts+=(--platform "$platform")
	else
		base_opts=(--manifest "$tmp/base.json" --config "$tmp/base-config.json")
		[ -z "$base_name" ] || base_opts+=(--base-name "$base_name")
		local base_digest
		read -r base_digest <"$tmp/base.digest"
		note "base ${from%@*}@$base_digest"
	fi
	SOURCE_DATE_EPOCH=$graft_epoch oci-graft "${base_opts[@]}" "${layer_files[@]}" \
		"${graft_opts[@]}" --config-out "$tmp/config.json" -o "$tmp/manifest.json" \
		--digest-out "$tmp/manifest.digest" || build_failed $? "oci-graft failed"
	read -r digest <"$tmp/manifest.digest"
}

# The oci-put manifest options every destination shares (put_opts): the base, the files, the
# document cache (the configs pushed kept there: the next build's --cache-from fetch asks only
# for the tag's manifest).
put_base_options() {
	put_opts=("${net_opts[@]}" "${put_quiet[@]}" "${doc_cache[@]}")
	[ "$from" = scratch ] || put_opts+=(--from "$from")
}

# The previous images reused layers come from (layer_from_previous), in put_froms: known once
# the layers are.
put_previous_images() {
	local -A seen=()
	local f loc
	put_froms=()
	for f in "$tmp"/layer.*.from; do
		[ -e "$f" ] || continue
		read -r loc <"$f"
		[ -n "${seen[$loc]:-}" ] || put_froms+=("$loc")
		seen[$loc]=1
	done
}

# A single image pushed: oci-put manifest started now, before the layers are made, its stdin a
# pipe this shell writes the manifest to once it is grafted (build_put). Meanwhile it connects
# and HEADs the tags (a tag naming the manifest already: nothing more to send). The previous
# images a layer may be reused from are every --cache-from one but DEST's own repository (whose
# blobs the HEADs find) and layouts; build_put uses this run only if they are the ones the
# layers came from, else stops it (put_stop) and runs oci-put as before.
put_early() {
	[ "$mode" = push ] && [ "$multi" = 0 ] || return 0
	local ref t
	put_base_options
	put_early_froms=()
	for ref in "${cache_from[@]}"; do
		[[ $ref == oci:* || $ref == "$default_cache_from" ]] || put_early_froms+=("$ref")
	done
	# (a --cache-from that is no reference is a warning later, not this run's usage error:
	# build_check named them all, or found one that is none)
	[ "$cache_from_named" = 1 ] || put_early_froms=()
	for ref in "${put_early_froms[@]}"; do
		put_opts+=(--from "$ref")
	done
	put_opts+=(--blob "$tmp/config.json")
	for t in "${tags[@]:1}"; do
		put_opts+=(--tag "$t")
	done
	local out=/dev/null
	if [ ${#cache_from[@]} -eq 1 ] && [ -n "$default_cache_from" ]; then
		# The default previous image (the tag) is read by this run, which asks for the tag
		# anyway: no program run, connection or token of its own. Its line ("previous
		# DIGEST|none|unknown") comes on put_said, a FIFO the layer jobs read (a reader of
		# its own: EOF once oci-put is gone).
		out=$tmp/put.said
		mkfifo -m 0600 "$out"
		put_opts+=(--previous-out "$tmp/from.0.json" --previous-config-out "$tmp/from.0.config")
	fi
	exec {put_fd}> >(exec oci-put "${put_opts[@]}" manifest "${tags[0]}" - >"$out")
	put_pid=$!
	[ "$out" = /dev/null ] || exec {put_said}<"$out"
}

# The previous image as the early oci-put manifest read it (put_early): true once it said
# (from.0.found if the tag names an image); false if it could not (oci-fetch asks then).
previous_from_put() {
	local word what
	[ -n "$put_said" ] && read -r word what <&"$put_said" && [ "$word" = previous ] || return 1
	case $what in
	none) ;;
	sha256:*) : >"$tmp/from.0.found" ;;
	*) return 1 ;;
	esac
}

# The early run takes the manifest when the layers came from the previous images it was given
# (DEST's own repository aside); true once it is fed (put_fd closed), its status in job_rc.
put_feed_early() {
	[ -n "$put_pid" ] || return 1
	local -A given=()
	local ref
	for ref in "${put_early_froms[@]}"; do
		given[$ref]=1
	done
	for ref in "${put_froms[@]}"; do
		[ -n "${given[$ref]:-}" ] || [ "$ref" = "$default_cache_from" ] || return 1
	done
	# (with no program run: a write to a reader that is gone fails, SIGPIPE ignored meanwhile)
	local manifest=''
	IFS= read -r -d '' manifest <"$tmp/manifest.json" || true
	trap '' PIPE
	printf '%s' "$manifest" 1>&"$put_fd" 2>/dev/null || true
	trap - PIPE
	exec {put_fd}>&-
	put_fd=''
	job_rc=0
	wait "$put_pid" || job_rc=$?
	put_pid=''
	put_said_close
}

# (open while oci-put runs: it would die of SIGPIPE on its last line with no reader)
put_said_close() {
	[ -z "$put_said" ] || exec {put_said}<&-
	put_said=''
}

# The early oci-put manifest not used (a failure, an exit, other previous images): stopped
# before it reads a manifest (SIGTERM: it says nothing, puts nothing) and reaped.
put_stop() {
	[ -n "$put_pid" ] || return 0
	kill -TERM "$put_pid" 2>/dev/null || true
	[ -z "$put_fd" ] || exec {put_fd}>&-
	put_fd=''
	wait "$put_pid" 2>/dev/null || true
	put_pid=''
	put_said_close
}

# 3. The manifest, once every blob it names is in place (the base layers mounted or copied
# from BASE, the config uploaded): pushed to every tag, or put in the layout named by the tags
# (docker save's naming for an archive). A single image pushed: by the oci-put run started
# early (put_early) when it fits.
build_put() {
	[ "$mode" != dry ] || return 0
	local -a put_opts put_froms
	local f t dest
	put_previous_images
	if ! put_feed_early; then
		put_stop
		put_base_options
		for f in "${put_froms[@]}"; do
			put_opts+=(--from "$f")
		done
		put_opts+=("${put_blobs[@]}")
		case $mode in
		push)
			dest=${tags[0]}
			for t in "${tags[@]:1}"; do
				put_opts+=(--tag "$t")
			done
			;;
		layout | archive)
			dest=oci:$layout
			for t in "${tags[@]}"; do
				put_opts+=(--name "$t")
			done
			[ "$mode" = layout ] || put_opts+=(--docker-save)
			;;
		esac
		run_job oci-put "${put_opts[@]}" manifest "$dest" "$tmp/manifest.json" >/dev/null
	fi
	if [ "$job_rc" -eq 66 ] && [ "$probe_hits" = 0 ] && grep -qs '^reused' "$tmp"/layer.*.how; then
		# a layer the cache or REF knew is gone from everywhere: the build again, each hit
		# probed first (layer_reuse), its layer made when its blob is nowhere
		note "a reused layer's blob is gone: building again, checking each reused layer first"
		cleanup
		trap - EXIT
		OCINOCO_PROBE_HITS=1 exec "$here/${self##*/}" build "${build_args[@]}"
	fi
	[ "$job_rc" -eq 0 ] || build_failed "$job_rc" "oci-put manifest failed"
}

# 4. The outputs into place: a new layout renamed; an archive, the layout as one tar renamed
# onto FILE; the digest file.
build_commit() {
	if [ -n "$layout_partial" ]; then
		commit_partial "$layout_partial" "${output#oci:}"
	fi
	if [ "$mode" = archive ]; then
		chmod -R u=rwX,go=rX -- "$layout"
		partial_next_to "$output"
		run_job oci-tar -- "$layout" >"$partial_path"
		[ "$job_rc" -eq 0 ] || build_failed "$job_rc" "writing $output failed"
		commit_partial "$partial_path" "$output"
	fi
	if [ -n "$digest_file" ]; then
		printf '%s\n' "$digest" >"$digest_partial"
		commit_partial "$digest_partial" "$digest_file"
	fi
}

build_report() {
	local t
	case $mode in
	push)
		for t in "${tags[@]}"; do
			printf '%s@%s\n' "$t" "$digest"
		done
		note "pushed in $(elapsed "$started") s"
		;;
	layout | archive)
		printf '%s\n' "$digest"
		note "written to $output in $(elapsed "$started") s"
		;;
	dry)
		printf '%s\n' "$digest"
		note "dry run (no --push or --output): nothing pushed or written; $(elapsed "$started") s"
		;;
	esac
}

# build: the new layer streamed to where the image goes while the base's manifest and config
# are fetched (one oci-fetch run), then oci-graft, then one oci-put manifest (base layers
# mounted or copied, config, manifest last). Nothing is pushed or written unless every stage
# succeeded.
cmd_build() {
	usage_fn=build_usage
	build_args=("$@")
	probe_hits=${OCINOCO_PROBE_HITS:-0}
	build_options "$@"
	build_check
	started=$EPOCHREALTIME
	build_destination
	tmp_make
	# What a program learns of a registry (its scheme, its auth challenge: no secret) is
	# there for the next one, which then needs no 401 first; gone with $tmp.
	mkdir -m 700 "$tmp/hints"
	export OCINOCO_REGISTRY_HINTS=$tmp/hints
	layers_seen
	layer_jobs_start early
	put_early
	build_inputs
	[ "$mode" != push ] || build_remember made
	build_graft
	build_put
	build_commit
	build_remember
	build_remember_wait
	build_report
}

index_usage() {
	cat <<USAGE
usage: ocinoco index --tag TAG [--tag TAG]... [--annotation K=V]... IMAGE...
                     [-q] [--digest-file FILE] [-v] [--insecure] [--cacert FILE]
USAGE
}

# index's command line: the tags, the annotations (for oci-index), the images, the programs'
# network options.
index_options() {
	images=() index_opts=() net_opts=() tags=() digest_file='' quiet=0 put_quiet=()
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) index_usage && exit 0 ;;
		--tag) need_value index "$@" && tags+=("$2") && shift ;;
		--annotation) need_value index "$@" && index_opts+=("$1" "$2") && shift ;;
		--digest-file) need_value index "$@" && digest_file=$2 && shift ;;
		--cacert) need_value index "$@" && net_opts+=("$1" "$2") && shift ;;
		--insecure | -v | --verbose) net_opts+=("$1") ;;
		-q | --quiet) quiet=1 && put_quiet=(-q) ;;
		--) shift && images+=("$@") && break ;;
		-?*) usage_die "index: unknown option: $1" ;;
		*) images+=("$1") ;;
		esac
		shift
	done
}

# The references checked by the programs' parser before any work; the digest file's partial.
index_check() {
	[ ${#tags[@]} -gt 0 ] || usage_die "index: missing --tag TAG"
	[ ${#images[@]} -gt 0 ] || usage_die "index: missing IMAGE (the images to combine)"
	local t names
	local -a refs=("${tags[@]}") tag_names
	for t in "${images[@]}"; do
		[[ $t == oci:* ]] || refs+=("$t")
	done
	names=$(oci-fetch --name "${refs[@]}") ||
		usage_die "index: --tag or IMAGE: not an image reference (REGISTRY/REPOSITORY[:TAG])"
	mapfile -t tag_names <<<"$names"
	for t in "${!tags[@]}"; do
		[[ ${tag_names[t]} != *@* ]] ||
			usage_die "index: --tag ${tags[t]}: not an image reference with a tag (REGISTRY/REPOSITORY[:TAG])"
	done
	digest_file_partial index
}

# 1. Every image's manifests and configs ($tmp/I/), one oci-fetch run each, all at once; the
# first to fail stops the others.
index_inputs() {
	local i done_pid
	local -A image_of=()
	for i in "${!images[@]}"; do
		mkdir "$tmp/$i"
		watch_job oci-fetch "${net_opts[@]}" --platform all --each "$tmp/$i" "${images[i]}"
		image_of[$job_pid]=${images[i]}
	done
	while [ ${#running[@]} -gt 0 ]; do
		wait_any_job
		[ "$job_rc" -eq 0 ] || build_failed "$job_rc" "cannot read ${image_of[$done_pid]}"
	done
}

# 2. The index (an index's platform images, each image with its config's platform), and what
# oci-put needs: every image as a source, every fetched manifest and config as a local file.
index_make() {
	local i n rest
	froms=() blobs=()
	for i in "${!images[@]}"; do
		froms+=(--from "${images[i]}")
		if [ -e "$tmp/$i/index.json" ]; then
			index_opts+=(--add "$tmp/$i/index.json")
		else
			index_opts+=(--add "$tmp/$i/1.json" --config "$tmp/$i/1.config.json")
		fi
		while read -r n rest; do
			blobs+=(--blob "$tmp/$i/$n.json" --blob "$tmp/$i/$n.config.json")
		done <"$tmp/$i/platforms"
	done
	oci-index "${index_opts[@]}" -o "$tmp/index.json" --digest-out "$tmp/index.digest" ||
		build_failed $? "oci-index failed"
	read -r digest <"$tmp/index.digest"
}

# 3. The children (by digest) and the index, under every tag; the digest file; the report.
index_put() {
	local t
	local -a put_opts=("${put_quiet[@]}")
	for t in "${tags[@]:1}"; do
		put_opts+=(--tag "$t")
	done
	run_job oci-put "${net_opts[@]}" "${froms[@]}" "${blobs[@]}" "${put_opts[@]}" \
		manifest "${tags[0]}" "$tmp/index.json" >/dev/null
	[ "$job_rc" -eq 0 ] || build_failed "$job_rc" "oci-put manifest failed"
	if [ -n "$digest_file" ]; then
		printf '%s\n' "$digest" >"$digest_partial"
		commit_partial "$digest_partial" "$digest_file"
	fi
	for t in "${tags[@]}"; do
		printf '%s@%s\n' "$t" "$digest"
	done
	[ "$quiet" = 1 ] || echo "$prog: index: pushed in $(elapsed "$started") s" >&2
}

# index: images (and the images of indexes) combined into one index pushed under the tags.
# Each IMAGE's manifests and configs in one oci-fetch run (all at once); oci-index makes the
# index (the platforms from the configs); one oci-put manifest makes every child present in
# each tag's repository (HEAD, mount within a registry, streamed copy across) before the index.
cmd_index() {
	usage_fn=index_usage
	index_options "$@"
	index_check
	started=$EPOCHREALTIME nothing=pushed subcommand=index
	tmp_make
	index_inputs
	index_make
	index_put
}

# --version: "ocinoco VERSION"; run from a source checkout, the VERSION file next to it.
print_version() {
	local v=$version
	if [[ $v == @*@ ]]; then
		read -r v <"$here/VERSION" || v=unknown
	fi
	printf '%s %s\n' "$prog" "$v"
}

main() {
	[ $# -gt 0 ] || usage_die "missing command"
	case $1 in
	-h | --help) usage ;;
	--version) print_version ;;
	pack) shift; cmd_pack "$@" ;;
	build) shift; cmd_build "$@" ;;
	index) shift; cmd_index "$@" ;;
	*) usage_die "unknown command: $1" ;;
	esac
}

main "$@"
