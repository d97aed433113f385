/* A __kconfig extern not declared __weak that no kernel's config sets: libbpf refuses the object ("extern
 * 'CONFIG_APPLIANCE_MADE_UP' (strong): not resolved"), and so does the appliance, naming it. */
#include "appliance_bpf.h"

extern int CONFIG_APPLIANCE_MADE_UP __kconfig;
extern int CONFIG_HZ __kconfig;

SEC("tc")
int reads_missing(struct __sk_buff *skb)
{
	return CONFIG_APPLIANCE_MADE_UP + CONFIG_HZ > 0 ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
