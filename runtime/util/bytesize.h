/* Byte counts as Docker prints them (go-units), for `images`, `stats`;
 * sizes in MiB as stack's own settings take them. */
#ifndef STACK_UTIL_BYTESIZE_H
#define STACK_UTIL_BYTESIZE_H

/* units.HumanSizeWithPrecision(n, precision): decimal units, "1.5MB",
 * "0B" (caller frees). */
char *human_size_si(double n, int precision);
/* units.BytesSize(n): binary units with 4 significant digits, "1.5MiB",
 * "1GiB" (caller frees). */
char *human_size_binary(double n);

/* A size in MiB as stack's settings write it: "64", "64M", "64MiB",
 * "1G", "1GiB" (m and g too).  -EINVAL unless it is from min to max MiB. */
int parse_mib(const char *text, unsigned min, unsigned max, unsigned *mib);

#endif
