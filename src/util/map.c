#include "util/map.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

void map_init(struct map *m)
{
	m->slots = NULL;
	m->cap = m->len = 0;
}

void map_deinit(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	map_init(m);
}

static struct map_slot *find(const struct map *m, const char *key, size_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct map_slot *s = &m->slots[i];
		if (!s->key)
			return s;
		if (s->hash == h && !strcmp(s->key, key))
			return s;
	}
}

void *map_get(const struct map *m, const char *key)
{
	struct map_slot *s = find(m, key, hash_str(key));
	return s && s->key ? s->val : NULL;
}

static int grow(struct map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct map_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return PL_ENOMEM;
	struct map old = *m;
	m->slots = slots;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return 0;
}

int map_put(struct map *m, const char *key, void *val)
{
	if ((m->len + 1) * 10 > m->cap * 7 && grow(m))
		return PL_ENOMEM;
	size_t h = hash_str(key);
	struct map_slot *s = find(m, key, h);
	if (s->key) {
		s->val = val;
		return 0;
	}
	char *k = strdup(key);
	if (!k)
		return PL_ENOMEM;
	*s = (struct map_slot){.key = k, .val = val, .hash = h};
	m->len++;
	return 0;
}

void *map_del(struct map *m, const char *key)
{
	struct map_slot *s = find(m, key, hash_str(key));
	if (!s || !s->key)
		return NULL;
	void *val = s->val;
	free(s->key);
	size_t mask = m->cap - 1, i = (size_t)(s - m->slots), j = i;
	/* backward-shift: move later entries of the probe run into the hole */
	for (;;) {
		m->slots[i].key = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (!m->slots[j].key)
				goto done;
			size_t home = m->slots[j].hash & mask;
			/* stays if home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
done:
	m->len--;
	return val;
}
