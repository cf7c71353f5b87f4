/*
 * NAME
 *	targreyctl - administer targrey-milter's state and tables
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
