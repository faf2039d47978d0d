/* Kernel symbols and types without files, recovered from the guest. */
#include <errno.h>

#include "vm.h"

int hp_recover__kernel(struct hp_vm *vm, struct hp_symtab **syms, struct hp_btf **btf, struct hp_err *err)
{
	(void)vm;
	(void)syms;
	(void)btf;
	return hp_err__set(err, ENOTSUP, "no kernel symbol file given, and recovering kallsyms from "
			   "guest memory is not supported yet: pass --symbols (System.map or kallsyms text)");
}
