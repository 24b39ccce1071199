# shellcheck shell=bash
# shellcheck disable=SC2034 # FIXTURE_* are read by the files that load this one
# The fixture tree: one directory holding every case a layer tar must handle, and a canonical
# listing to compare a tree with what a tar extracts from it. Load it with `load ../lib/tree`.
#
#   make_fixture_tree DIR [--variant]
#       Creates DIR (which must not exist) holding: regular, empty and executable files; an
#       empty directory; modes 0600, setuid 4755, setgid 2755 (file) and 2775 (directory),
#       sticky 1777; names with a space, a newline, a backslash, non-ASCII UTF-8 (café/日本語.txt)
#       and a set whose byte order differs from a locale's (order/); a path of exactly 100
#       bytes, one of 101 (ustar prefix split), a 150-byte file name (pax) and a path longer
#       than 255 bytes (pax); symlinks relative, absolute, dangling, to a directory and with a
#       target longer than 100 bytes; a file with three hard links in two directories; a fifo;
#       a character device (1,3) and a block device (7,0) when mknod works (root); a socket
#       (oci-tar skips it with a warning); a 3 MiB sparse file with data in the middle and at
#       the end.
#       Every mode is set explicitly (umask does not matter); every entry's mtime is
#       FIXTURE_MTIME and atime FIXTURE_ATIME.
#       --variant: the same names, contents and modes, but created in the reverse order (other
#       inode numbers, another directory order), with mtime FIXTURE_VARIANT_MTIME and other
#       atimes: a deterministic tar of the two, with a fixed --mtime, is byte-identical.
#       Sets FIXTURE_DEVICES=yes|no (no: FIXTURE_DEVICES_SKIP says why; the devices are then
#       missing); FIXTURE_CHARDEV and FIXTURE_CHARDEV_SKIP are the same values.
#
#   tree_manifest DIR [--uid N] [--gid N] [--mtime EPOCH]
#       Prints one line per entry under DIR, sorted bytewise: the path (quoted like printf %q),
#       type, mode, uid, gid, mtime and what the type has: size and sha256 of a file (and the
#       first path of its inode, bytewise, when it has hard links), a symlink's target, a
#       device's major,minor. Sockets are left out (a tar has none). --uid/--gid/--mtime print
#       that value instead of the entry's own, for comparing a source tree with an extraction
#       made with those options. Symlink mtimes are left out: extractors differ in restoring
#       them. It runs in a bash of its own (bats' debug traps would make its loops slow).
#       diff <(tree_manifest src --mtime 0 --uid 0 --gid 0) <(tree_manifest extracted)

FIXTURE_MTIME=1234567890
FIXTURE_ATIME=1300000000
FIXTURE_VARIANT_MTIME=987654321
FIXTURE_VARIANT_ATIME=1400000000

# A 40-character directory name and a 150-character file name, used to build long paths.
_fx_d40=$(printf 'd%.0s' {1..40})
_fx_n150=$(printf 'n%.0s' {1..150})

# The tree as parallel lists: kind (d dir, f file, l symlink, h hard link to an earlier f,
# p fifo, c char device, s socket, S sparse file), path, mode, content or target.
_fx_spec() {
	_fx_kind+=("$1")
	_fx_path+=("$2")
	_fx_mode+=("$3")
	_fx_arg+=("${4-}")
}

_fx_define() {
	_fx_kind=() _fx_path=() _fx_mode=() _fx_arg=()
	local long101 long255
	long101="long/$(printf '%096d' 0)"
	long255="long/$_fx_d40/$_fx_d40/$_fx_d40/$_fx_d40/$_fx_d40/$_fx_d40/more-than-255-bytes.txt"
	_fx_spec d empty-dir 0755
	_fx_spec f empty-file 0644 ''
	_fx_spec f regular.txt 0644 $'hello, layer\n'
	_fx_spec f exec.sh 0755 $'#!/bin/sh\necho hi\n'
	_fx_spec f private 0600 $'secret\n'
	_fx_spec f setuid 4755 $'setuid\n'
	_fx_spec f setgid 2755 $'setgid\n'
	_fx_spec d setgid-dir 2775
	_fx_spec f setgid-dir/inside 0640 $'inside\n'
	_fx_spec d sticky 1777
	_fx_spec f 'with space.txt' 0644 $'space\n'
	_fx_spec f $'new\nline' 0644 $'newline\n'
	_fx_spec f 'back\slash' 0644 $'backslash\n'
	_fx_spec d café 0755
	_fx_spec f café/日本語.txt 0644 $'utf-8\n'
	_fx_spec d order 0755
	local n
	for n in B Z _x a a-b a.b; do
		_fx_spec f "order/$n" 0644 "$n"
	done
	_fx_spec d order/a-dir 0755
	_fx_spec f order/a-dir/in 0644 in
	_fx_spec d long 0755
	_fx_spec f "long/$(printf '%095d' 0)" 0644 $'100 bytes\n'
	_fx_spec f "$long101" 0644 $'101 bytes\n'
	_fx_spec f "long/$_fx_n150" 0644 $'150-byte name\n'
	local p=long
	for n in 1 2 3 4 5 6; do
		p="$p/$_fx_d40"
		_fx_spec d "$p" 0755
	done
	_fx_spec f "$long255" 0644 $'deep\n'
	_fx_spec d links 0755
	_fx_spec f links/target-file 0644 $'target\n'
	_fx_spec l links/relative 0777 target-file
	_fx_spec l links/absolute 0777 /etc/passwd
	_fx_spec l links/dangling 0777 does/not/exist
	_fx_spec l links/to-dir 0777 ../empty-dir
	_fx_spec l links/long-target 0777 "$_fx_n150/beyond/100/bytes"
	_fx_spec d hard 0755
	_fx_spec f hard/a 0644 $'three links\n'
	_fx_spec h hard/b 0644 hard/a
	_fx_spec h zz-hard-elsewhere 0644 hard/a
	_fx_spec d special 0755
	_fx_spec p special/fifo 0644
	_fx_spec c special/chardev 0600 1,3
	_fx_spec c special/blockdev 0640 b,7,0
	_fx_spec s special/socket 0755
	_fx_spec S sparse 0644
}

_fx_make_socket() {
	local py
	py=$(command -v /usr/bin/python3 python3 | head -n 1)
	"$py" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"
}

# Creates entry i of the spec under $1.
_fx_create() {
	local root=$1 i=$2 variant=$3
	local kind=${_fx_kind[$i]} path="$1/${_fx_path[$i]}" arg=${_fx_arg[$i]}
	case $kind in
	d) mkdir -p "$path" ;;
	f) printf '%s' "$arg" >"$path" ;;
	h)
		# The variant makes the link first and the named original second (same inode).
		if [ "$variant" = yes ] && [ ! -e "$root/$arg" ]; then
			_fx_content_of "$arg" >"$path"
			ln "$path" "$root/$arg"
		else
			ln "$root/$arg" "$path"
		fi
		;;
	l) ln -s "$arg" "$path" ;;
	p) mkfifo "$path" ;;
	c)
		local why dev
		IFS=, read -r -a dev <<<"$arg"
		[ "${#dev[@]}" -eq 3 ] || dev=(c "${dev[@]}")
		if why=$(mknod "$path" "${dev[@]}" 2>&1); then
			FIXTURE_DEVICES=${FIXTURE_DEVICES:-yes}
		else
			FIXTURE_DEVICES=no
			FIXTURE_DEVICES_SKIP="mknod failed: $why"
		fi
		FIXTURE_CHARDEV=$FIXTURE_DEVICES FIXTURE_CHARDEV_SKIP=${FIXTURE_DEVICES_SKIP-}
		;;
	s) _fx_make_socket "$path" ;;
	S)
		truncate -s 3M "$path"
		printf 'middle' | dd of="$path" bs=1 seek=$((1024 * 1024 + 7)) conv=notrunc status=none
		printf 'end' | dd of="$path" bs=1 seek=$((3 * 1024 * 1024 - 3)) conv=notrunc status=none
		;;
	esac
}

_fx_content_of() {
	local i
	for i in "${!_fx_path[@]}"; do
		if [ "${_fx_path[$i]}" = "$1" ]; then
			printf '%s' "${_fx_arg[$i]}"
			return
		fi
	done
}

make_fixture_tree() {
	local root=$1 variant=no
	FIXTURE_DEVICES='' FIXTURE_DEVICES_SKIP=
	[ "${2-}" = --variant ] && variant=yes
	[ ! -e "$root" ] || { echo "make_fixture_tree: $root exists" >&2; return 1; }
	_fx_define
	local count=${#_fx_kind[@]} i j
	local order=()
	for ((i = 0; i < count; i++)); do
		if [ $variant = yes ]; then order+=("$((count - 1 - i))"); else order+=("$i"); fi
	done
	mkdir "$root"
	# Directories first (any order works with mkdir -p), then everything else.
	for i in "${order[@]}"; do
		[ "${_fx_kind[$i]}" = d ] && _fx_create "$root" "$i" $variant
	done
	for i in "${order[@]}"; do
		[ "${_fx_kind[$i]}" = d ] || [ -e "$root/${_fx_path[$i]}" ] || [ -L "$root/${_fx_path[$i]}" ] ||
			_fx_create "$root" "$i" $variant
	done
	local mtime=$FIXTURE_MTIME atime=$FIXTURE_ATIME
	if [ $variant = yes ]; then
		mtime=$FIXTURE_VARIANT_MTIME atime=$FIXTURE_VARIANT_ATIME
	fi
	chmod 0755 "$root"
	for i in "${order[@]}"; do
		local path="$root/${_fx_path[$i]}"
		[ -e "$path" ] || [ -L "$path" ] || continue
		[ "${_fx_kind[$i]}" = l ] || chmod "${_fx_mode[$i]}" "$path"
	done
	# Times last, deepest first, so nothing created afterwards changes a directory's mtime.
	for ((j = count - 1; j >= 0; j--)); do
		local path="$root/${_fx_path[$j]}"
		[ -e "$path" ] || [ -L "$path" ] || continue
		touch -h -m -d "@$mtime" "$path"
		touch -h -a -d "@$atime" "$path"
	done
	touch -h -m -d "@$mtime" "$root"
}

_fx_self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tree.bash"

tree_manifest() {
	bash -c 'source "$1" && shift && _fx_manifest "$@"' tree_manifest "$_fx_self" "$@"
}

_fx_manifest() {
	local dir=$1
	shift
	local uid='' gid='' mtime=''
	while [ $# -gt 0 ]; do
		case $1 in
		--uid) uid=$2 ;;
		--gid) gid=$2 ;;
		--mtime) mtime=$2 ;;
		*) echo "tree_manifest: unknown option $1" >&2; return 2 ;;
		esac
		shift 2
	done
	local LC_ALL=C
	local -A first=() sum=()
	local path type mode u g t size inode nlink target line
	# Every file's sha256 in one run: "HASH  PATH\0", PATH not escaped (-z).
	while IFS= read -r -d '' line; do
		sum[${line:66}]=${line:0:64}
	done < <(cd "$dir" && find . -mindepth 1 -type f -printf '%P\0' | xargs -0r sha256sum -z --)
	# Pass 1: the bytewise-first path of every inode with more than one link.
	while IFS= read -r -d '' path && IFS= read -r -d '' inode && IFS= read -r -d '' nlink; do
		[ "$nlink" -gt 1 ] || continue
		if [ -z "${first[$inode]-}" ] || [[ $path < ${first[$inode]} ]]; then
			first[$inode]=$path
		fi
	done < <(find "$dir" -mindepth 1 -type f -printf '%P\0%D:%i\0%n\0')
	# Pass 2: one line per entry.
	while IFS= read -r -d '' path && IFS= read -r -d '' type && IFS= read -r -d '' mode &&
		IFS= read -r -d '' u && IFS= read -r -d '' g && IFS= read -r -d '' t &&
		IFS= read -r -d '' size && IFS= read -r -d '' inode && IFS= read -r -d '' nlink &&
		IFS= read -r -d '' target; do
		[ "$type" = s ] && continue
		t=${t%%.*}
		line="$(printf '%q' "$path") $type $mode ${uid:-$u} ${gid:-$g}"
		case $type in
		f)
			line+=" ${mtime:-$t} $size ${sum[$path]}"
			if [ "$nlink" -gt 1 ]; then
				line+=" hardlink:$(printf '%q' "${first[$inode]}")"
			fi
			;;
		l) line+=" -> $(printf '%q' "$target")" ;;
		c | b) line+=" ${mtime:-$t} $(stat -c '%t,%T' "$dir/$path")" ;;
		*) line+=" ${mtime:-$t}" ;;
		esac
		printf '%s\n' "$line"
	done < <(find "$dir" -mindepth 1 -printf '%P\0%y\0%m\0%U\0%G\0%T@\0%s\0%D:%i\0%n\0%l\0') | LC_ALL=C sort
}
