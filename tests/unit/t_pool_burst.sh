#!/bin/sh
# t_pool_burst.sh - 200 tarpits opened in one burst against a real libmilter
# milter that hands off (pool_handoff) before each wait: every session must
# reach RCPT before the first tarpit ended, and every session must complete.
# Twice: with pool_handoff() making the handoff itself, and with the
# watchdog running (-W 40), where pool_handoff() only asks the watchdog.
# An assertion about order, not time; the figures are printed for the log.
# Without the handoff (pool_burst -H) sessions strand behind the tarpits.
set -eu
bin="${TG_BUILDDIR:-.}/tests/bench/pool_burst"
"$bin" -c -n 200 -d 3 -g 50
exec "$bin" -c -n 200 -d 3 -g 50 -W 40
