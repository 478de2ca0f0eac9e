/* cli.c -- see cli.h. */
#define _GNU_SOURCE
#include "cli.h"
#include "redis_url.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RATELAB_VERSION
#define RATELAB_VERSION "unknown"
#endif

#define CLI_MAX_OPTIONS 64
#define CLI_ID_BASE 0x1000   /* getopt's val for option k: above every short option's char */

const char *cli_version(void)
{
    return RATELAB_VERSION;
}

void cli_command_line(int argc, char **argv, char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "ratelab");
    for (int i = 0; i < argc && used + 1 < len; i++) {
        char arg[2048];   /* a URL's password never reaches run.json, the report or the terminal */
        rurl_redact(argv[i], arg, sizeof arg);
        int plain = arg[0] && !arg[strcspn(arg, " \t\"'$*?<>|&;()\\")];
        int w = snprintf(buf + used, len - used, plain ? " %s" : " '%s'", arg);
        if (w < 0) break;
        used += (size_t)w;
    }
}

int cli_double(const char *opt, const char *text, double min, double max, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (*text == '\0' || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "ratelab: --%s: '%s' is not a number from %g to %g\n", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_long(const char *opt, const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end || v < min || v > max) {
        fprintf(stderr, "ratelab: --%s: '%s' is not a whole number from %ld to %ld\n", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Optimal string alignment distance, bounded to words of 63 bytes. */
static size_t cli_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 64;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t j = 0; j <= m; j++) d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            size_t best = sub < del ? sub : del;
            if (ins < best) best = ins;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = 0, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_distance(word, candidates[i]);
        /* a prefix of a longer name ("--log" for "--log-decisions") is a likely meaning too */
        if (len >= 3 && strncmp(candidates[i], word, len) == 0) d = 1;
        if (!best || d < best_d) { best = candidates[i]; best_d = d; }
    }
    size_t allowed = len < 4 ? 1 : len < 9 ? 2 : 3;
    return best && best_d <= allowed ? best : NULL;
}

static void cli_wrap(FILE *f, const char *text, int indent)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%.*s\n", (int)n, p);
        p += n;
        if (*p == '\n' && *++p) fprintf(f, "%*s", indent, "");
    }
}

void cli_help(FILE *f, const cli_command *cmd)
{
    fprintf(f, "usage: ratelab %s %s\n\n", cmd->name, cmd->synopsis);
    cli_wrap(f, cmd->summary, 0);
    fprintf(f, "\noptions:\n");
    int width = 6;   /* "--help" */
    for (size_t i = 0; i < cmd->n_options; i++) {
        const cli_option *o = &cmd->options[i];
        int w = (int)strlen(o->name) + 2 + (o->arg ? (int)strlen(o->arg) + 1 : 0);
        if (w > width) width = w;
    }
    for (size_t i = 0; i < cmd->n_options; i++) {
        const cli_option *o = &cmd->options[i];
        char head[128];
        snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-*s  ", width, head);
        cli_wrap(f, o->help, width + 4);
    }
    fprintf(f, "  %-*s  %s\n", width, "--help", "this help");
    if (cmd->footer) {
        fprintf(f, "\n");
        cli_wrap(f, cmd->footer, 0);
    }
}

/* "unknown option '--outt'; did you mean '--out'?" */
static void cli_unknown(const cli_command *cmd, const char *given)
{
    char word[64];
    const char *w = given;
    while (*w == '-') w++;
    snprintf(word, sizeof word, "%.*s", (int)strcspn(w, "="), w);
    const char *names[CLI_MAX_OPTIONS + 1];
    size_t n = 0;
    for (size_t i = 0; i < cmd->n_options && n < CLI_MAX_OPTIONS; i++) names[n++] = cmd->options[i].name;
    names[n++] = "help";
    const char *near = cli_suggest(word, names, n);
    fprintf(stderr, "ratelab %s: unknown option '%s'", cmd->name, given);
    if (near) fprintf(stderr, "; did you mean '--%s'?", near);
    fprintf(stderr, " (ratelab %s --help lists its options)\n", cmd->name);
}

int cli_parse(const cli_command *cmd, int argc, char **argv, cli_on_option on_option, void *ctx, int *first)
{
    struct option longs[CLI_MAX_OPTIONS + 2];
    size_t n = cmd->n_options < CLI_MAX_OPTIONS ? cmd->n_options : CLI_MAX_OPTIONS;
    for (size_t i = 0; i < n; i++)
        longs[i] = (struct option){ cmd->options[i].name, cmd->options[i].arg ? required_argument : no_argument, NULL,
                                    CLI_ID_BASE + (int)i };
    longs[n] = (struct option){ "help", no_argument, NULL, 'h' };
    longs[n + 1] = (struct option){ NULL, 0, NULL, 0 };
    opterr = 0;   /* the messages are ours, with a suggestion */
    optind = 0;   /* glibc: a full reset, so a second parse in one process starts clean */
    for (;;) {
        int c = getopt_long(argc, argv, ":h", longs, NULL);
        if (c == -1) break;
        if (c == 'h') {
            cli_help(stdout, cmd);
            return CLI_HELP;
        }
        if (c == ':') {
            const char *name = optopt >= CLI_ID_BASE ? cmd->options[optopt - CLI_ID_BASE].name : NULL;
            if (name) fprintf(stderr, "ratelab %s: --%s needs a value (--%s %s)\n", cmd->name, name, name,
                              cmd->options[optopt - CLI_ID_BASE].arg);
            else fprintf(stderr, "ratelab %s: -%c needs a value\n", cmd->name, optopt);
            return CLI_USAGE;
        }
        if (c == '?') {
            if (optopt >= CLI_ID_BASE) {
                /* a flag given a value: --quiet=1 */
                fprintf(stderr, "ratelab %s: --%s takes no value\n", cmd->name, cmd->options[optopt - CLI_ID_BASE].name);
            } else if (optopt) {
                /* a short option: the word is still at optind while getopt is inside it ("-out"), else before */
                const char *at = optind < argc ? argv[optind] : NULL;
                const char *given = at && at[0] == '-' && at[1] != '-' && strchr(at + 1, optopt) ? at : argv[optind - 1];
                char word[3] = { '-', (char)optopt, '\0' };
                cli_unknown(cmd, strlen(given) > 2 && given[0] == '-' && given[1] != '-' ? given : word);
            } else {
                cli_unknown(cmd, argv[optind - 1]);   /* a long option: getopt has moved past it */
            }
            return CLI_USAGE;
        }
        if (on_option(ctx, cmd->options[c - CLI_ID_BASE].id, optarg) != 0) return CLI_USAGE;
    }
    int given = argc - optind;
    if (given < cmd->min_args || (cmd->max_args >= 0 && given > cmd->max_args)) {
        if (given < cmd->min_args)
            fprintf(stderr, "ratelab %s: missing argument: usage: ratelab %s %s", cmd->name, cmd->name, cmd->synopsis);
        else
            fprintf(stderr, "ratelab %s: unexpected argument '%s': usage: ratelab %s %s", cmd->name,
                    argv[optind + cmd->max_args], cmd->name, cmd->synopsis);
        fprintf(stderr, " (ratelab %s --help for more)\n", cmd->name);
        return CLI_USAGE;
    }
    *first = optind;
    return CLI_OK;
}

/* The names of dir/<name>.json, sorted; how many (at most 64). */
static int cli_scenario_names(const char *dir, char names[64][64])
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) && found < 64) {
        size_t n = strlen(e->d_name);
        if (n > 5 && n < 64 && strcmp(e->d_name + n - 5, ".json") == 0)
            snprintf(names[found++], 64, "%.*s", (int)(n - 5), e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)found, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    return found;
}

int cli_find_scenario(const char *arg, char *buf, size_t len, char *err, size_t errlen)
{
    /* a path: the scenario reader names it if it cannot be read. A bare
     * name that is a directory here (results/ written by `--out burst`) is
     * no scenario: the shipped one of that name is meant */
    struct stat st;
    int is_dir = stat(arg, &st) == 0 && S_ISDIR(st.st_mode);
    if ((access(arg, F_OK) == 0 && !(is_dir && !strchr(arg, '/'))) || strchr(arg, '/')) {
        snprintf(buf, len, "%s", arg);
        return 0;
    }
    char dirs[2][4096] = { "scenarios", "" };
    ssize_t n = readlink("/proc/self/exe", dirs[1], sizeof dirs[1] - 16);
    if (n > 0) {
        dirs[1][n] = '\0';
        char *slash = strrchr(dirs[1], '/');
        if (slash) snprintf(slash, sizeof dirs[1] - (size_t)(slash - dirs[1]), "/scenarios");
        else dirs[1][0] = '\0';
    }
    size_t alen = strlen(arg);
    int json = alen > 5 && strcmp(arg + alen - 5, ".json") == 0;
    for (int i = 0; i < 2; i++) {
        if (!dirs[i][0]) continue;
        if ((size_t)snprintf(buf, len, "%s/%s%s", dirs[i], arg, json ? "" : ".json") < len && access(buf, F_OK) == 0)
            return 0;
    }
    char names[64][64];
    int found = cli_scenario_names("scenarios", names);
    if (!found && dirs[1][0]) found = cli_scenario_names(dirs[1], names);
    if (!found) {
        snprintf(err, errlen, "%s: no such file (and no scenarios/ directory here or beside the binary)", arg);
        return -1;
    }
    char list[2048] = "";
    const char *words[64];
    for (int i = 0; i < found; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        words[i] = names[i];
    }
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s", (int)(json ? alen - 5 : alen), arg);
    const char *near = cli_suggest(stem, words, (size_t)found);
    char hint[96] = "";
    if (near) snprintf(hint, sizeof hint, "did you mean '%s'? ", near);
    snprintf(err, errlen, "%s: no such file, and no scenario of that name in scenarios/; %sthe shipped ones: %s", arg,
             hint, list);
    return -1;
}
