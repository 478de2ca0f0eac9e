# c_string.sh -- sourced by the embed scripts: quote turns standard input
# into the lines of one C string literal. Backslashes and double quotes
# are escaped, and '?' too: -std=c11 reads "??(" and its kin as trigraphs.
quote() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/      "/' -e 's/$/\\n"/'; }
# c_entry NAME: one { "NAME", "<standard input>" } initializer of a name-and-text table
c_entry() { printf '    { "%s",\n' "$1"; quote; printf '    },\n'; }
