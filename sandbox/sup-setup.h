/* Building the init's Setup from a sandbox config (sup-setup.c). */
#ifndef SUP_SETUP_H
#define SUP_SETUP_H

#include "sandbox.h"

struct sup_setup {
	Openshell__Supervisor__V1__Setup	  pb;
	/* Everything pb points to, owned here. */
	Openshell__Supervisor__V1__Mount	**mounts;
	size_t					  nmounts;
	char				        **strs;
	size_t					  nstrs;
};

/* Resolves the run-as user (creating `sandbox` when missing), lays out the
 * sandbox's directories under <dir>, and fills the Setup. */
int	 sup_setup_build(struct sup *, const SupPbConfig *, struct sup_setup *,
	     struct os_error *);
void	 sup_setup_clear(struct sup_setup *);

#endif /* SUP_SETUP_H */
