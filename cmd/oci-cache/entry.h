/* One entry of ocinoco's layer cache: a layer's key (its input signature and the options that
 * change its compressed bytes) -> its descriptor, and where its blob was seen.
 *
 * An entry is DIR/layers/<sha256 of the key>.json, one JSON object:
 *   {"key": KEY, "descriptor": {mediaType, digest, size, diffID}, "at": [LOCATION...],
 *    "check": "sha256:..."}
 * "check" is the SHA-256 of the key, a newline and the descriptor as serialised: an entry that is
 * truncated, garbage, edited or of another key is refused, never trusted. Entries are written
 * whole to a temporary file and renamed (atomic_file), so a reader sees an old entry or a new
 * one, never a part, whatever number of builds share the cache. */
#ifndef OCI_CACHE_ENTRY_H
#define OCI_CACHE_ENTRY_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* An entry is small: a descriptor and a few locations. Larger is damage. */
#define ENTRY_MAX_BYTES (1u << 20)

struct entry {
	json_t *descriptor; /* mediaType, digest, size, diffID; owned */
	json_t *at;         /* array of location strings; owned */
};

/* The entry's path for key under dir; caller frees. */
char *entry_path(const char *dir, const char *key);

/* Reads and checks the entry at path for key. 1: e filled; 0: there is none; -1: damaged (the
 * reason in why), or unreadable (errno's reason in why). */
int entry_read(const char *path, const char *key, struct entry *e, char *why, size_t whylen);

/* Checks a descriptor as oci-digest -d writes it: mediaType, sha256 digest, size, sha256
 * diffID. false with the reason in why. */
bool entry_descriptor_check(const json_t *d, char *why, size_t whylen);

/* A recipe (a layer's directory and options, without its signature) a build made here: what
 * lets a build that never made it skip the signature walk (oci-tar --signature-out gives the
 * signature from the archive's own walk). DIR/recipes/<sha256 of the recipe>. The path; caller
 * frees. */
char *recipe_path(const char *dir, const char *recipe);
/* Whether the recipe was recorded (a stat: damage is at worst a walk made for nothing). */
bool recipe_seen(const char *dir, const char *recipe);
/* Records the recipe (atomically); 0, or -1 with errno. */
int recipe_record(const char *dir, const char *recipe);

/* Writes e for key at path (the directories made as needed); 0, or -1 with errno. */
int entry_write(const char *path, const char *key, const struct entry *e);

/* Adds location to e->at unless there already. */
void entry_add_location(struct entry *e, const char *location);

void entry_free(struct entry *e);

#endif
