#include "doc.h"
#include "oci.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

void doc_free(struct doc *d)
{
	buf_free(&d->data);
	free(d->media_type);
	*d = (struct doc){0};
}

int doc_identify(struct doc *d, const char *fallback_type, char *err, size_t errlen)
{
	char jerr[200];
	sha256_of(d->data.data ? d->data.data : "", d->data.len, d->digest);
	json_t *j = json_parse(d->data.data ? d->data.data : "", d->data.len, jerr, sizeof jerr);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, errlen, "not a JSON object%s%s", j ? "" : ": ", j ? "" : jerr);
		json_decref(j);
		return -1;
	}
	/* The body's own mediaType wins over a Content-Type some registries get wrong. */
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	if (mt == NULL && fallback_type &&
	    (media_type_is_index(fallback_type) || media_type_is_manifest(fallback_type)))
		mt = fallback_type;
	if (mt == NULL)
		mt = manifest_media_type(j);
	if (mt == NULL)
		mt = fallback_type;
	free(d->media_type);
	d->media_type = mt ? xstrdup(mt) : NULL;
	json_decref(j);
	return 0;
}
