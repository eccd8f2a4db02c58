# bench/lib.sh: helpers the bench-*.sh scripts source (not a benchmark).

# median N...: the middle value (the upper one of an even count); 0 for none.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'; }

# ratio A B: A / B to two decimals, "nan" when B is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
