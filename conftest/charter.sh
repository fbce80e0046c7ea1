#!/bin/sh
# conftest charter ARGS: runs the charter CLI ($CHARTER, else charter on PATH)
# with ARGS, and exits with its exit code.
bin=${CHARTER:-charter}
if ! command -v "$bin" >/dev/null 2>&1; then
	echo "conftest charter: the charter CLI ($bin) is not on PATH; install it or set CHARTER to its path" >&2
	exit 2
fi
exec "$bin" "$@"
