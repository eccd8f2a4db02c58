#!/bin/bash
# The stand-in for a sandbox's init in end-to-end tests: a long-running
# process in the client namespace that runs each job sent to it (a
# directory holding a `cmd` script) as its own child, so that the
# programs under test descend from it as agent processes descend from the
# sandbox's init. Writes out, err and rc into the job directory.
fifo=$1
exec 3<>"$fifo"      # read and write: no EOF when a writer goes away
while read -r job <&3; do
	[ "$job" = exit ] && break
	[ -f "$job/cmd" ] || continue
	(
		bash "$job/cmd" >"$job/out" 2>"$job/err" </dev/null
		echo $? >"$job/rc.tmp"
		mv "$job/rc.tmp" "$job/rc"
	) &
done
