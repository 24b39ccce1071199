#!/usr/bin/env bash
# Prepares the benchmark trees once (reused by every later run):
#   bench/work/tree/node_modules   an `npm ci` of a typical web app's dependencies
#                                  (bench/npm-app: ~97 MB in ~14,000 files, ~15,800 entries)
#   bench/work/tree4/{1,2,3,4}/    four copies of it (the "4x" tree for peak-memory checks)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p work
if [ ! -d work/tree/node_modules ]; then
	rm -rf work/tree.tmp
	mkdir -p work/tree.tmp
	cp npm-app/package.json npm-app/package-lock.json work/tree.tmp/
	(cd work/tree.tmp && npm ci --ignore-scripts --no-audit --no-fund >&2)
	mv work/tree.tmp work/tree
fi
if [ ! -d work/tree4 ]; then
	rm -rf work/tree4.tmp
	mkdir -p work/tree4.tmp
	for i in 1 2 3 4; do
		cp -a work/tree/node_modules "work/tree4.tmp/$i"
	done
	mv work/tree4.tmp work/tree4
fi
echo "bench tree: $(du -s --apparent-size --block-size=1M work/tree/node_modules | cut -f1) MB," \
	"$(find work/tree/node_modules | wc -l) entries" >&2
