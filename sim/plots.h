/*
 * plots.h -- the gnuplot figures (PNG and SVG, for papers and slides) of a
 * results directory, drawn by the scripts shipped beside the binary
 * (scripts/plot.sh, scripts/sweep_plot.sh). The paths go to the script as
 * arguments, never through a shell, so any directory name works.
 */
#ifndef RATELAB_PLOTS_H
#define RATELAB_PLOTS_H

#include <stddef.h>

/* Runs scripts/<script> DIR (found beside the binary, else under the
 * working directory) and waits for it; its output passes through. Returns
 * 0, or -1 with a message when it cannot be run or fails. Without gnuplot
 * the script says so in one line and succeeds. */
int plot_draw(const char *script, const char *dir, char *err, size_t errlen);

#endif
