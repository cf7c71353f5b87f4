/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	greylist_key - greylist keys and Postgrey-style sender normalisation
 * DESCRIPTION
 *	See greylist.h (greylist_sender_normalize, greylist_*_key).
 * DIAGNOSTICS
 *	Functions return 0 when the output buffer is too small.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "greylist.h"

#define KEY_LOCAL_MAX	(GREYLIST_ADDR_MAX + 1)

/* Is C a regular-expression word character (\w)? */
static int
key_is_word(int c)
{
	return isalnum((unsigned char) c) || c == '_';
}

/* Does S start with a 10-character [0-9a-z] run (a BATV tag)? */
static int
key_is_batv_tag(const char *s, size_t len)
{
	if (len < 10)
		return 0;
	for (size_t i = 0; i < 10; i++)
		if (!isdigit((unsigned char) s[i]) && !islower((unsigned char) s[i]))
			return 0;
	return 1;
}

/* Split LOCAL at '=' into at most MAX fields; return the count. */
static size_t
key_split(char *local, char **f, size_t max)
{
	size_t	n = 0;
	char   *p = local;

	f[n++] = p;
	while (n < max && (p = strchr(p, '=')) != NULL) {
		*p++ = 0;
		f[n++] = p;
	}
	return n;
}

/* BATV: keep the address inside prvs=TAG=user (either order). */
static void
key_strip_batv(char *local)
{
	char	copy[KEY_LOCAL_MAX], *f[4];
	const char *keep;

	if (strncmp(local, "prvs=", 5) != 0 && strncmp(local, "msprvs1=", 8) != 0)
		return;
	snprintf(copy, sizeof(copy), "%s", local);
	if (key_split(copy, f, 4) != 3)
		return;
	if (key_is_batv_tag(f[1], strlen(f[1])) && !key_is_batv_tag(f[2], strlen(f[2])))
		keep = f[2];
	else if (key_is_batv_tag(f[2], strlen(f[2])) && !key_is_batv_tag(f[1], strlen(f[1])))
		keep = f[1];
	else
		keep = f[2];		/* both or neither look like a tag: the standard order */
	memmove(local, keep, strlen(keep) + 1);
}

/* SRS: drop hash and time stamp, keep the original domain and user. */
static void
key_strip_srs(char *local)
{
	char	copy[KEY_LOCAL_MAX], *f[8];
	size_t	n;

	snprintf(copy, sizeof(copy), "%s", local);
	if (strncmp(local, "srs0=", 5) == 0) {
		/* srs0=HHH=TT=domain=user */
		if ((n = key_split(copy, f, 5)) == 5)
			snprintf(local, KEY_LOCAL_MAX, "srs0=%s=%s", f[3], f[4]);
	} else if (strncmp(local, "srs1=", 5) == 0) {
		/* srs1=HHH=forwarder==HHH=TT=domain=user */
		if ((n = key_split(copy, f, 8)) == 8 && *f[3] == 0)
			snprintf(local, KEY_LOCAL_MAX, "srs1=%s=%s=%s", f[2], f[6], f[7]);
	}
}

/* Replace every digit run that stands alone as a word by '#'. */
static void
key_hash_digits(char *s)
{
	char   *out = s;
	const char *p = s, *q;

	while (*p) {
		if (isdigit((unsigned char) *p) && (p == s || !key_is_word(p[-1]))) {
			for (q = p; isdigit((unsigned char) *q); q++)
				continue;
			if (!key_is_word(*q)) {
				*out++ = '#';
				p = q;
				continue;
			}
		}
		*out++ = *p++;
	}
	*out = 0;
}

/* Append at most MAX bytes of S (lower-cased when LOWER) at *N; 0 if full. */
static int
key_append(char *buf, size_t size, size_t *n, const char *s, size_t max, int lower)
{
	size_t	len = strnlen(s, max);

	if (*n + len + 1 > size)
		return 0;
	for (size_t i = 0; i < len; i++)
		buf[*n + i] = lower ? (char) tolower((unsigned char) s[i]) : s[i];
	*n += len;
	buf[*n] = 0;
	return 1;
}

/* Normalise a sender, Postgrey-style (and more: see greylist.h). */
size_t
greylist_sender_normalize(const char *sender, char *buf, size_t size)
{
	char	local[KEY_LOCAL_MAX], *plus;
	const char *at = strrchr(sender, '@');
	size_t	llen, i, n;

	if (at == NULL || size == 0) {
		n = snprintf(buf, size, "%.*s", GREYLIST_ADDR_MAX, sender);
		for (i = 0; i < n && i < size; i++)
			buf[i] = (char) tolower((unsigned char) buf[i]);
		return n < size ? n : 0;
	}
	llen = (size_t) (at - sender);
	if (llen >= sizeof(local))
		llen = sizeof(local) - 1;
	for (i = 0; i < llen; i++)
		local[i] = (char) tolower((unsigned char) sender[i]);
	local[llen] = 0;
	key_strip_batv(local);
	key_strip_srs(local);
	if ((plus = strchr(local, '+')) != NULL)
		*plus = 0;
	key_hash_digits(local);
	n = 0;
	if (!key_append(buf, size, &n, local, sizeof(local), 0)
	    || !key_append(buf, size, &n, "@", 1, 0)
	    || !key_append(buf, size, &n, at + 1, GREYLIST_ADDR_MAX, 1))
		return 0;
	return n;
}

/* The client's network as text: the clients-database key. */
size_t
greylist_net_key(const greylist_params_t *p, const addr_t *a,
		 char *buf, size_t size)
{
	addr_t	net = *a;

	addr_mask(&net, net.family == AF_INET ? p->ipv4_prefix : p->ipv6_prefix);
	return greylist_addr_key(&net, buf, size);
}

/* The client's full address as text: the tarpit-database key. */
size_t
greylist_addr_key(const addr_t *a, char *buf, size_t size)
{
	char	text[ADDR_TEXT_MAX];
	size_t	n;

	if ((n = addr_format(a, text, sizeof(text))) == 0 || n >= size)
		return 0;
	memcpy(buf, text, n + 1);
	return n;
}

/* Copy S without the angle brackets of an SMTP path ("<a@b>", "<>"). */
static void
key_unbracket(const char *s, char *buf, size_t size)
{
	size_t	len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = 0;
}

/* "NET/SENDER/RECIPIENT", lower case, sender normalised. */
size_t
greylist_triplet_key(const greylist_params_t *p, const addr_t *a,
		     const char *sender, const char *recipient,
		     char *buf, size_t size)
{
	char	net[ADDR_TEXT_MAX];

	if (greylist_net_key(p, a, net, sizeof(net)) == 0)
		return 0;
	return greylist_triplet_key_net(net, sender, recipient, buf, size);
}

/* The same from a network key already made by greylist_net_key(). */
size_t
greylist_triplet_key_net(const char *net, const char *sender,
			 const char *recipient, char *buf, size_t size)
{
	char	snd[GREYLIST_ADDR_MAX * 2 + 2], bare[GREYLIST_ADDR_MAX * 2 + 2];
	size_t	n = 0;

	key_unbracket(sender, bare, sizeof(bare));
	if (greylist_sender_normalize(bare, snd, sizeof(snd)) == 0 && *bare)
		return 0;
	key_unbracket(recipient, bare, sizeof(bare));
	if (!key_append(buf, size, &n, net, ADDR_TEXT_MAX, 0)
	    || !key_append(buf, size, &n, "/", 1, 0)
	    || !key_append(buf, size, &n, snd, GREYLIST_ADDR_MAX, 0)
	    || !key_append(buf, size, &n, "/", 1, 0)
	    || !key_append(buf, size, &n, bare, GREYLIST_ADDR_MAX, 1))
		return 0;
	return n;
}
