/* Byte counts as Docker prints them (go-units), for `images`, `stats`. */
#ifndef STACK_UTIL_BYTESIZE_H
#define STACK_UTIL_BYTESIZE_H

/* units.HumanSizeWithPrecision(n, precision): decimal units, "1.5MB",
 * "0B" (caller frees). */
char *human_size_si(double n, int precision);
/* units.BytesSize(n): binary units with 4 significant digits, "1.5MiB",
 * "1GiB" (caller frees). */
char *human_size_binary(double n);

#endif
