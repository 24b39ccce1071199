#include "oci.h"
#include "digest.h"
#include "util.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *json_parse(const char *data, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
	if (doc == NULL)
		snprintf(err, errlen, "line %d column %d: %s", e.line, e.column, e.text);
	return doc;
}

char *json_serialise(const json_t *doc, size_t *len)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s == NULL)
		errx(EXIT_FAIL, "out of memory serialising JSON");
	*len = strlen(s);
	return s;
}

const char *descriptor_media_type(const json_t *desc)
{
	return json_string_value(json_object_get(desc, "mediaType"));
}

const char *descriptor_digest(const json_t *desc)
{
	return json_string_value(json_object_get(desc, "digest"));
}

int64_t descriptor_size(const json_t *desc)
{
	json_t *s = json_object_get(desc, "size");
	return json_is_integer(s) ? (int64_t)json_integer_value(s) : -1;
}

bool descriptor_check(const json_t *desc, char *err, size_t errlen)
{
	if (!json_is_object(desc)) {
		snprintf(err, errlen, "descriptor is not a JSON object");
		return false;
	}
	const char *mt = descriptor_media_type(desc);
	const char *dg = descriptor_digest(desc);
	if (mt == NULL || *mt == '\0') {
		snprintf(err, errlen, "descriptor has no mediaType");
		return false;
	}
	if (dg == NULL) {
		snprintf(err, errlen, "descriptor has no digest");
		return false;
	}
	if (!digest_is_sha256(dg)) {
		snprintf(err, errlen, "descriptor digest \"%s\" is not sha256:<64 hex>", dg);
		return false;
	}
	if (descriptor_size(desc) < 0) {
		snprintf(err, errlen, "descriptor size is missing or negative");
		return false;
	}
	return true;
}

bool media_type_is_index(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

bool media_type_is_manifest(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0);
}

const char *manifest_media_type(const json_t *doc)
{
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (mt)
		return mt;
	if (json_is_array(json_object_get(doc, "manifests")))
		return MT_OCI_INDEX;
	if (json_is_object(json_object_get(doc, "config")) &&
	    json_is_array(json_object_get(doc, "layers")))
		return MT_OCI_MANIFEST;
	return NULL;
}
