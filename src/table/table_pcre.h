/*
 * Copyright (c) 2026, the targrey-milter authors; BSD-2-Clause, see LICENSE
 *
 * NAME
 *	table_pcre - PCRE2 match data for the calling thread
 * SYNOPSIS
 *	#include "table_pcre.h"
 *
 *	pcre2_match_data *table_pcre_match_data(uint32_t pairs);
 * DESCRIPTION
 *	Returns match data with room for at least PAIRS capture pairs,
 *	owned by the calling thread (freed when it exits), or NULL when
 *	memory runs out. pcre: tables and the S25R rules use it so that
 *	concurrent lookups never share match data.
 */
#ifndef TG_TABLE_PCRE_H
#define TG_TABLE_PCRE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdint.h>
#include <pcre2.h>

pcre2_match_data *table_pcre_match_data(uint32_t pairs);

#endif
