/*
 * print.c - qunctl's generic printer for control results.
 *
 * The daemon's results are plain JSON; this file shows any of them to a
 * person without knowing the command:
 *   object           "key: value" lines, keys padded to one width;
 *   array of objects one header row (keys in order of first appearance)
 *                    and aligned columns;
 *   array of scalars one per line; an empty array prints "(none)";
 *   scalar           as is (strings without quotes); null prints nothing.
 * A value nested inside a cell is shown as: scalars plain, an array of
 * scalars comma-separated, anything else compact JSON. Column widths count
 * UTF-8 code points, not display cells (CJK text is not aligned exactly).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qunctl/qunctl.h"
#include "util/alloc.h"

/* Text of one cell; the caller frees it. */
static char *cell_text(const json_t *v)
{
    char *s = NULL;
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_null(v) || !v)
        return xstrdup("-");
    if (json_is_array(v)) {
        size_t i, total = 1;
        const json_t *e;
        bool flat = true;
        json_array_foreach(v, i, e)
        {
            if (json_is_object(e) || json_is_array(e))
                flat = false;
        }
        if (flat) {
            char **parts = xcalloc(json_array_size(v) + 1, sizeof *parts);
            json_array_foreach(v, i, e)
            {
                parts[i] = cell_text(e);
                total += strlen(parts[i]) + 1;
            }
            s = xcalloc(1, total);
            for (i = 0; parts[i]; i++) {
                if (i)
                    strcat(s, ",");
                strcat(s, parts[i]);
                free(parts[i]);
            }
            free(parts);
            return s;
        }
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Width in UTF-8 code points. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void print_padded(FILE *out, const char *s, size_t width, bool last)
{
    fputs(s, out);
    if (last)
        return;
    for (size_t w = text_width(s); w < width + 2; w++)
        fputc(' ', out);
}

static void print_object(FILE *out, const json_t *obj)
{
    const char *key;
    const json_t *v;
    size_t width = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (text_width(key) > width)
            width = text_width(key);
    }
    json_object_foreach((json_t *)obj, key, v)
    {
        char *text = cell_text(v);
        char label[256];
        snprintf(label, sizeof label, "%s:", key);
        print_padded(out, label, width, false);
        fprintf(out, "%s\n", text);
        free(text);
    }
}

/* Keys of every object in arr in order of first appearance (borrowed). */
static const char **table_columns(const json_t *arr, size_t *ncols)
{
    size_t cap = 8, n = 0, i;
    const char **cols = xmalloc(cap * sizeof *cols);
    const json_t *row;
    json_array_foreach(arr, i, row)
    {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)row, key, v)
        {
            size_t k = 0;
            while (k < n && strcmp(cols[k], key) != 0)
                k++;
            if (k < n)
                continue;
            if (n == cap)
                cols = xrealloc(cols, (cap *= 2) * sizeof *cols);
            cols[n++] = key;
        }
    }
    *ncols = n;
    return cols;
}

static void print_table(FILE *out, const json_t *arr)
{
    size_t ncols, nrows = json_array_size(arr);
    const char **cols = table_columns(arr, &ncols);
    char **cells = xcalloc(nrows * ncols + 1, sizeof *cells);
    size_t *width = xcalloc(ncols + 1, sizeof *width);
    for (size_t c = 0; c < ncols; c++)
        width[c] = text_width(cols[c]);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            char *t = cell_text(json_object_get(json_array_get(arr, r), cols[c]));
            cells[r * ncols + c] = t;
            if (text_width(t) > width[c])
                width[c] = text_width(t);
        }
    for (size_t c = 0; c < ncols; c++)
        print_padded(out, cols[c], width[c], c + 1 == ncols);
    fputc('\n', out);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++)
            print_padded(out, cells[r * ncols + c], width[c], c + 1 == ncols);
        fputc('\n', out);
    }
    for (size_t k = 0; k < nrows * ncols; k++)
        free(cells[k]);
    free(cells);
    free(width);
    free(cols);
}

void qunctl_print(FILE *out, const json_t *result)
{
    if (!result || json_is_null(result))
        return;
    if (json_is_object(result)) {
        print_object(out, result);
        return;
    }
    if (!json_is_array(result)) {
        char *t = cell_text(result);
        fprintf(out, "%s\n", t);
        free(t);
        return;
    }
    if (json_array_size(result) == 0) {
        fputs("(none)\n", out);
        return;
    }
    bool objects = true;
    size_t i;
    const json_t *e;
    json_array_foreach(result, i, e)
    {
        if (!json_is_object(e))
            objects = false;
    }
    if (objects) {
        print_table(out, result);
        return;
    }
    json_array_foreach(result, i, e)
    {
        char *t = cell_text(e);
        fprintf(out, "%s\n", t);
        free(t);
    }
}

void qunctl_print_json(FILE *out, const json_t *result)
{
    char *t = json_dumps(result ? result : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    fprintf(out, "%s\n", t ? t : "null");
    free(t);
}
