/*
 * NAME
 *	targrey-milter - SPF, S25R, tarpit and greylisting milter for Postfix
 * DESCRIPTION
 *	Work in progress: command line only.
 */
#include "autoconfig.h"
#include <stdio.h>

int
main(void)
{
	printf("%s\n", PACKAGE_STRING);
	return 0;
}
