/* Rates as text, and the configure step that turns them into fixed point. */
#include "fuzz.h"

#include <math.h>

#include "../../algorithms/limiter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[256], why[300], out[64];
    lim_rate r;
    if (lim_rate_parse(fz_text(data, size, text, sizeof text), &r, why, sizeof why) != 0) return 0;
    lim_rate_format(&r, out, sizeof out);
    const lim_ops *ops = lim_find("gcra");
    double values[LIM_MAX_PARAMS] = { lim_rate_per_s(&r), 1 + (double)(size % 4000000) };
    lim_rate rates[LIM_MAX_PARAMS] = { r };
    lim_config cfg = { .ops = ops };
    lim_configure_checked(&ops->entry, values, rates, &cfg, why, sizeof why);
    return 0;
}
