/*
 * map.h — a small open-addressing hash map from short string keys to
 * pointers (rooms by id). Keys are copied into the map. Linear probing with
 * backward-shift deletion, so there are no tombstones; it grows at 70 % load.
 */
#ifndef PL_MAP_H
#define PL_MAP_H

#include <stddef.h>

struct map_slot {
	char *key;
	void *val;
	size_t hash;
};

struct map {
	struct map_slot *slots;
	size_t cap;   /* power of two, or 0 */
	size_t len;
};

void map_init(struct map *m);
void map_deinit(struct map *m);
void *map_get(const struct map *m, const char *key);
/* Inserts or replaces; 0 or PL_ENOMEM. */
int map_put(struct map *m, const char *key, void *val);
/* Removes key; returns its value or NULL. */
void *map_del(struct map *m, const char *key);

#define map_each(m, slot) \
	for (struct map_slot *slot = (m)->slots; slot && slot < (m)->slots + (m)->cap; slot++) \
		if (slot->key)

#endif
