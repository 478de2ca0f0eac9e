/*
 * cli.h -- the command line's grammar, one table per command: getopt_long
 * underneath (--opt value, --opt=value, unambiguous prefixes), that
 * command's --help from the same table, "did you mean" for a misspelled
 * command or option, and where a scenario named by its short name lives.
 */
#ifndef RATELAB_CLI_H
#define RATELAB_CLI_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *name;   /* without the leading "--" */
    const char *arg;    /* the value's placeholder ("N", "DIR"); NULL for a flag */
    int id;             /* handed to the command's option handler */
    const char *help;   /* what it does; '\n' starts a continuation line */
} cli_option;

typedef struct {
    const char *name;       /* "run" */
    const char *synopsis;   /* what follows the name: "SCENARIO [options]" */
    const char *summary;    /* one line: what the command does */
    const cli_option *options;
    size_t n_options;
    int min_args, max_args; /* positional arguments; max -1: any number */
    const char *footer;     /* printed after the options (exit status, examples); may be NULL */
} cli_command;

/* Receives one option: its id and value (NULL for a flag). Returns 0, or
 * -1 after printing why the value is refused. */
typedef int (*cli_on_option)(void *ctx, int id, const char *value);

enum { CLI_OK = 0, CLI_HELP = 1, CLI_USAGE = -1 };

/* Parses argv (argv[0] is the command's name) by cmd's table, calling
 * on_option for each option in order. --help / -h prints cmd's help to
 * stdout and returns CLI_HELP. A misspelled or unknown option, a missing
 * value or a wrong number of positional arguments prints one message with
 * a suggestion to stderr and returns CLI_USAGE; so does a refused value.
 * On CLI_OK the positional arguments are argv[*first .. argc). getopt's
 * state is libc's; this is the only place that touches it. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_on_option on_option, void *ctx, int *first);

/* The command's help: usage line, summary, options and footer. */
void cli_help(FILE *f, const cli_command *cmd);

/* The candidate closest to `word` by edit distance (transpositions count
 * one), or NULL when none is close enough to be a likely typo. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* Where the scenario `arg` is: arg itself when it is a file; else, for a
 * bare name, scenarios/<arg>.json (beside the working directory, then
 * beside the binary). Returns 0 with the path in buf, or -1 with a message
 * listing the shipped scenarios. */
int cli_find_scenario(const char *arg, char *buf, size_t len, char *err, size_t errlen);

/* "ratelab CMD ARGS..." from argv (argv[0] the command), each word quoted
 * when a shell would split it, so the line can be run again. Call it
 * before cli_parse, which reorders argv. */
void cli_command_line(int argc, char **argv, char *buf, size_t len);

/* The version compiled in (git describe), "unknown" without git. */
const char *cli_version(void);

/* A number in [min, max] from an option's value; -1 after a message
 * naming the option. */
int cli_double(const char *opt, const char *text, double min, double max, double *out);
int cli_long(const char *opt, const char *text, long min, long max, long *out);

#endif
