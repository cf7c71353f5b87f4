#!/bin/sh
# table_builtin.sh FILE - write the builtin: tables as C (FILE is
# conf/s25r_whitelist, which becomes builtin:s25r_whitelist).
set -e
echo '/* Generated from conf/s25r_whitelist by src/table_builtin.sh: do not edit. */'
echo '#include <stddef.h>'
echo '#include "table_impl.h"'
echo ''
echo 'static const char s25r_whitelist_text[] = ""'
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/	"/' -e 's/$/\\n"/' "$1"
echo '	;'
echo ''
echo 'const table_builtin_t table_builtins[] = {'
echo '	{"s25r_whitelist", s25r_whitelist_text},'
echo '	{NULL, NULL},'
echo '};'
