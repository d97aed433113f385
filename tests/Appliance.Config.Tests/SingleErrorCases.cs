namespace Appliance.Config.Tests;

/// <summary>
/// Malformed configs made from <see cref="ConfigTexts.Valid"/> by one edit, each with the error it must give:
/// position (of <c>focus</c> inside <c>marker</c>), JSON path and the whole message; <c>count</c> is the total
/// number of errors the edit causes (an edit sometimes breaks a reference too).
/// </summary>
public static class SingleErrorCases
{
    // name, from, to, marker, focus, path, message, count
    public static TheoryData<string, string, string, string, string, string, string, int> Structure() => new()
    {
        { "integer as string", "\"mtu\": 1500", "\"mtu\": \"1500\"", "\"1500\"", "\"", "$.ports[1].mtu", "expected an integer, got a string (\"1500\")", 1 },
        { "fractional integer", "\"mtu\": 1500", "\"mtu\": 1500.5", "1500.5", "1", "$.ports[1].mtu", "expected an integer (no fraction or exponent), got a number (1500.5)", 1 },
        { "huge exponent", "\"mtu\": 1500", "\"mtu\": 1e400", "1e400", "1", "$.ports[1].mtu", "expected an integer (no fraction or exponent), got a number (1e400)", 1 },
        { "huge integer", "\"line\": 1", "\"line\": 99999999999999999999", "99999999999999999999", "9", "$.leds.lines[1].line", "expected an integer from -2147483648 to 2147483647, got a number (99999999999999999999)", 1 },
        { "string instead of array", "\"addresses\": [\"10.0.2.2/32\"]", "\"addresses\": \"10.0.2.2/32\"", "\"10.0.2.2/32\"", "\"", "$.pairs[1].tenant.addresses", "expected an array, got a string (\"10.0.2.2/32\")", 1 },
        { "string instead of object", "\"primary\": { \"policy\": \"pass\", \"chain\": [{ \"program\": \"count\" }] }", "\"primary\": \"pass\"", "\"primary\": \"pass\"", "\"pass\"", "$.pairs[0].primary", "expected an object, got a string (\"pass\")", 1 },
        { "string instead of bool", "\"activeLow\": true", "\"activeLow\": \"yes\"", "\"yes\"", "\"", "$.leds.lines[1].activeLow", "expected true or false, got a string (\"yes\")", 1 },
        { "netkit policy word", "\"policy\": \"drop\"", "\"policy\": \"blackhole\"", "\"blackhole\"", "\"", "$.pairs[0].peer.policy", "expected \"pass\" or \"drop\", got a string (\"blackhole\") (netkit's \"blackhole\" is \"drop\" here)", 1 },
        { "enum in upper case", "\"mode\": \"l3\"", "\"mode\": \"L3\"", "\"L3\"", "\"", "$.pairs[1].mode", "expected \"l2\" or \"l3\", got a string (\"L3\") (names are lower-case: \"l3\")", 1 },
        { "enum as number", "\"unclaimed\": \"drop\"", "\"unclaimed\": 1", "\"unclaimed\": 1", "1", "$.ports[1].unclaimed", "expected \"kernel\" or \"drop\", got a number (1)", 1 },
        { "unknown member misspelt", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"prots\": [],", "\"prots\"", "\"", "$.prots", "unknown member \"prots\" (did you mean \"ports\"? expected one of: $schema, board, controlSocket, controlGroup, ports, pairs, programs, leds, metrics, jit, button, memory, workers)", 1 },
        { "unknown member nested", "\"line\": 0, \"trigger\": \"status\" }", "\"line\": 0, \"trigger\": \"status\", \"colour\": \"green\" }", "\"colour\"", "\"", "$.leds.lines[0].colour", "unknown member \"colour\" (expected one of: name, chip, line, activeLow, trigger)", 1 },
        { "missing required member", "\"uplink\": \"eth0\",", "", "{\n      \"name\": \"tenant-a\"", "{", "$.pairs[0].uplink", "missing required member \"uplink\" (expected a string)", 1 },
        { "null for a string", "\"board\": \"qemu-virt\"", "\"board\": null", "null", "n", "$.board", "expected a string, got null", 1 },
        { "duplicate member", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"board\": \"rpi4\",", "\"board\": \"rpi4\"", "\"", "$.board", "duplicate member \"board\" (first at line 2, column 3); JSON readers keep only one of them, so remove one", 1 },
        { "duplicate map name", "\"maps\": { \"allowed_ports\": [{ \"key\": 22, \"value\": 0 }] }", "\"maps\": { \"allowed_ports\": [], \"allowed_ports\": [] }", "[], \"allowed_ports\"", "\"", "$.programs[0].maps.allowed_ports", "duplicate member \"allowed_ports\" (first at line 25, column 90); JSON readers keep only one of them, so remove one", 1 },
        { "malformed MAC", "\"02:00:00:00:0a:02\"", "\"02:00:00:00:0a\"", "\"02:00:00:00:0a\"", "\"", "$.pairs[0].tenant.mac", "expected a MAC address like \"02:00:00:00:00:01\", got a string (\"02:00:00:00:0a\")", 1 },
        { "address without prefix length", "\"10.0.1.2/24\"", "\"10.0.1.2\"", "\"10.0.1.2\"", "\"", "$.pairs[0].tenant.addresses[0]", "expected an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\", got a string (\"10.0.1.2\") (add the prefix length, e.g. \"10.0.1.2/24\")", 1 },
        { "IPv4 octet over 255", "\"10.0.1.2/24\"", "\"10.0.1.300/24\"", "\"10.0.1.300/24\"", "\"", "$.pairs[0].tenant.addresses[0]", "expected an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\", got a string (\"10.0.1.300/24\")", 1 },
        { "IPv4 prefix over 32", "\"10.0.1.2/24\"", "\"10.0.1.2/33\"", "\"10.0.1.2/33\"", "\"", "$.pairs[0].tenant.addresses[0]", "expected an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\", got a string (\"10.0.1.2/33\")", 1 },
        { "IPv6 with zone", "\"10.0.1.2/24\"", "\"fe80::1%eth0/64\"", "\"fe80::1%eth0/64\"", "\"", "$.pairs[0].tenant.addresses[0]", "expected an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\", got a string (\"fe80::1%eth0/64\")", 1 },
        { "legacy short IPv4", "\"10.0.1.2/24\"", "\"10.1/8\"", "\"10.1/8\"", "\"", "$.pairs[0].tenant.addresses[0]", "expected an address with prefix length like \"10.0.0.2/24\" or \"fd00::2/64\", got a string (\"10.1/8\")", 1 },
        { "unknown LED trigger", "\"trigger\": \"status\"", "\"trigger\": \"blink\"", "\"blink\"", "\"", "$.leds.lines[0].trigger", $"expected {LedTrigger.Expected}, got a string (\"blink\")", 1 },
        { "link trigger without port", "\"link:eth0\"", "\"link:\"", "\"link:\"", "\"", "$.leds.lines[1].trigger", $"expected {LedTrigger.Expected}, got a string (\"link:\")", 1 },
        { "map key with 0x", "\"key\": 22", "\"key\": \"0x16\"", "\"0x16\"", "\"", "$.programs[0].maps.allowed_ports[0].key", "expected a hex string of bytes like \"0a000001\" or an integer, got a string (\"0x16\"): a hex string is the bytes in memory order without \"0x\" (e.g. \"0a000001\"); write a number without quotes for an integer", 1 },
        { "map key odd hex digits", "\"key\": 22", "\"key\": \"016\"", "\"016\"", "\"", "$.programs[0].maps.allowed_ports[0].key", "expected a hex string of bytes like \"0a000001\" or an integer, got a string (\"016\"): write each byte as two hex digits, optionally separated by one space or colon (e.g. \"0a 00 00 01\")", 1 },
        { "map value not hex", "\"value\": 0 }] }", "\"value\": \"zz\" }] }", "\"zz\"", "\"", "$.programs[0].maps.allowed_ports[0].value", "expected a hex string of bytes like \"0a000001\" or an integer, got a string (\"zz\"): 'z' is not a hex digit", 1 },
        { "map key fraction", "\"key\": 22", "\"key\": 22.5", "22.5", "2", "$.programs[0].maps.allowed_ports[0].key", "expected an integer from -9223372036854775808 to 18446744073709551615 (no fraction or exponent), got a number (22.5)", 1 },
        { "map key beyond 64 bits", "\"key\": 22", "\"key\": 18446744073709551616", "18446744073709551616", "1", "$.programs[0].maps.allowed_ports[0].key", "expected an integer from -9223372036854775808 to 18446744073709551615 (no fraction or exponent), got a number (18446744073709551616)", 1 },
        { "map key boolean", "\"key\": 22", "\"key\": true", "\"key\": true", "true", "$.programs[0].maps.allowed_ports[0].key", "expected a hex string of bytes like \"0a000001\" or an integer, got true", 1 },
    };

    public static TheoryData<string, string, string, string, string, string, string, int> Meaning() => new()
    {
        { "dangling uplink", "\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"", "\"eth9\"", "\"", "$.pairs[0].uplink", "unknown port \"eth9\" (expected one of: eth0, eth1)", 1 },
        { "dangling chain program", "[{ \"program\": \"count\" }]", "[{ \"program\": \"cnt\" }]", "\"cnt\"", "\"", "$.pairs[0].primary.chain[0].program", "unknown program \"cnt\" (expected one of: allow, count)", 1 },
        { "LED link to unknown port", "\"link:eth0\"", "\"link:eth7\"", "\"link:eth7\"", "\"", "$.leds.lines[1].trigger", "unknown port \"eth7\" in \"link:eth7\" (expected one of: eth0, eth1)", 1 },
        { "LED activity of unknown pair", "\"line\": 0, \"trigger\": \"status\"", "\"line\": 0, \"trigger\": \"activity:nobody\"", "\"activity:nobody\"", "\"", "$.leds.lines[0].trigger", "unknown port or pair \"nobody\" in \"activity:nobody\" (expected one of: eth0, eth1, tenant-a, tenant-b)", 1 },
        { "multicast tenant MAC", "\"02:00:00:00:0a:02\"", "\"03:00:00:00:0a:02\"", "\"03:00:00:00:0a:02\"", "\"", "$.pairs[0].tenant.mac", "MAC 03:00:00:00:0a:02 is a multicast address (lowest bit of the first octet set); expected a unicast MAC like \"02:00:00:00:00:01\"", 1 },
        { "all-zero MAC", "\"02:00:00:00:0a:02\"", "\"00:00:00:00:00:00\"", "\"00:00:00:00:00:00\"", "\"", "$.pairs[0].tenant.mac", "MAC 00:00:00:00:00:00 is all zeros; expected a unicast MAC like \"02:00:00:00:00:01\"", 1 },
        { "two tenants one MAC", "\"02:00:00:00:0b:02\"", "\"02-00-00-00-0A-02\"", "\"02-00-00-00-0A-02\"", "\"", "$.pairs[1].tenant.mac", "MAC 02:00:00:00:0a:02 is already claimed by $.pairs[0].tenant.mac; every tenant needs its own MAC", 1 },
        { "two tenants one address", "\"10.0.2.2/32\"", "\"10.0.1.2/32\"", "\"10.0.1.2/32\"", "\"", "$.pairs[1].tenant.addresses[0]", "address 10.0.1.2 is already claimed by $.pairs[0].tenant.addresses[0]", 1 },
        { "network address as host", "\"10.0.1.2/24\"", "\"10.0.1.0/24\"", "\"10.0.1.0/24\"", "\"", "$.pairs[0].tenant.addresses[0]", "10.0.1.0/24 is the network address of 10.0.1.0/24; give the tenant a host address such as 10.0.1.1/24", 1 },
        { "broadcast address as host", "\"10.0.1.2/24\"", "\"10.0.1.255/24\"", "\"10.0.1.255/24\"", "\"", "$.pairs[0].tenant.addresses[0]", "10.0.1.255/24 is the broadcast address of 10.0.1.0/24; give the tenant a host address such as 10.0.1.1/24", 1 },
        { "mtu below 68", "\"mtu\": 1500", "\"mtu\": 67", "\"mtu\": 67", "67", "$.ports[1].mtu", "mtu 67 is out of range; expected 68..65535", 1 },
        { "mtu above 65535", "\"mtu\": 1500", "\"mtu\": 65536", "65536", "6", "$.ports[1].mtu", "mtu 65536 is out of range; expected 68..65535", 1 },
        { "port queues 0", "\"mtu\": 1500", "\"mtu\": 1500, \"queues\": 0", "\"queues\": 0", "0", "$.ports[1].queues", "queues (RX queues of the port, one socket each) 0 is out of range; expected 1..64", 1 },
        { "port queues above 64", "\"mtu\": 1500", "\"mtu\": 1500, \"queues\": 65", "\"queues\": 65", "65", "$.ports[1].queues", "queues (RX queues of the port, one socket each) 65 is out of range; expected 1..64", 1 },
        { "port queues as string", "\"mtu\": 1500", "\"mtu\": 1500, \"queues\": \"2\"", "\"queues\": \"2\"", "\"2\"", "$.ports[1].queues", "expected an integer, got a string (\"2\")", 1 },
        { "tenant mtu out of range", "\"netns\": \"ns-b\",", "\"netns\": \"ns-b\", \"mtu\": 0,", "\"mtu\": 0", "0", "$.pairs[1].tenant.mtu", "mtu 0 is out of range; expected 68..65535", 1 },
        { "headroom too large", "\"headroom\": 64", "\"headroom\": 5000", "5000", "5", "$.pairs[0].headroom", "headroom 5000 is out of range; expected 0..4096", 1 },
        { "negative tailroom", "\"headroom\": 64,", "\"headroom\": 64, \"tailroom\": -1,", "-1", "-", "$.pairs[0].tailroom", "tailroom -1 is out of range; expected 0..4096", 1 },
        { "learn limit too large", "\"headroom\": 64,", "\"headroom\": 64, \"learnLimit\": 5000,", "5000", "5", "$.pairs[0].learnLimit", "learnLimit 5000 is out of range; expected 0..1024", 1 },
        { "negative GPIO line", "\"line\": 0", "\"line\": -1", "-1", "-", "$.leds.lines[0].line", "line -1 is negative; expected the line offset on the chip (0 or more)", 1 },
        { "GPIO line used twice", "\"line\": 1", "\"line\": 0", "\"line\": 0, \"activeLow\"", "0", "$.leds.lines[1].line", "line 0 of chip \"9030000.pl061\" is already driven by $.leds.lines[0]", 1 },
        { "duplicate pair name", "\"name\": \"tenant-b\"", "\"name\": \"tenant-a\"", "\"name\": \"tenant-a\",\n      \"mode\": \"l3\"", "\"tenant-a\"", "$.pairs[1].name", "duplicate pair name \"tenant-a\" (already used by $.pairs[0])", 1 },
        { "duplicate LED name", "\"name\": \"link\"", "\"name\": \"status\"", "\"status\", \"chip\": \"9030000.pl061\", \"line\": 1", "\"", "$.leds.lines[1].name", "duplicate LED name \"status\" (already used by $.leds.lines[0])", 1 },
        { "duplicate port name", "{ \"name\": \"eth1\", \"unclaimed\": \"drop\"", "{ \"name\": \"eth0\", \"unclaimed\": \"drop\"", "\"eth0\", \"unclaimed\": \"drop\"", "\"", "$.ports[1].name", "duplicate port name \"eth0\" (already used by $.ports[0])", 2 },
        { "duplicate program name", "{ \"name\": \"count\", \"object\"", "{ \"name\": \"allow\", \"object\"", "\"allow\", \"object\": \"counter", "\"", "$.programs[1].name", "duplicate program name \"allow\" (already used by $.programs[0])", 2 },
        { "pair named like a port", "\"name\": \"tenant-b\"", "\"name\": \"eth1\"", "\"name\": \"eth1\",\n", "\"eth1\"", "$.pairs[1].name", "pair name \"eth1\" is also a port name; give the pair its own name", 1 },
        { "interface name too long", "\"interface\": \"eth0\", \"mac\": \"02:00:00:00:0a:02\"", "\"interface\": \"a-very-long-ifname\", \"mac\": \"02:00:00:00:0a:02\"", "\"a-very-long-ifname\"", "\"", "$.pairs[0].tenant.interface", "\"a-very-long-ifname\" is 18 characters; Linux interface names have at most 15", 1 },
        { "name with a space", "{ \"name\": \"status\", \"chip\"", "{ \"name\": \"status led\", \"chip\"", "\"status led\"", "\"", "$.leds.lines[0].name", "\"status led\" contains ' '; use letters, digits, '.', '_' and '-'", 1 },
        { "button on an LED's line", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"button\": { \"chip\": \"9030000.pl061\", \"line\": 0 },", "\"line\": 0 }", "0", "$.button.line", "line 0 of chip \"9030000.pl061\" is already driven by $.leds.lines[0]", 1 },
        { "button negative line", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"button\": { \"chip\": \"9030000.pl061\", \"line\": -2 },", "\"line\": -2", "-", "$.button.line", "line -2 is negative; expected the line offset on the chip (0 or more)", 1 },
        { "memory frames not a power of two", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"memory\": { \"frames\": 300 },", "\"frames\": 300", "3", "$.memory.frames", "300 is not a power of two from 128 to 16384", 1 },
        { "memory ring too small", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"memory\": { \"ringSize\": 64 },", "\"ringSize\": 64", "6", "$.memory.ringSize", "64 is not a power of two from 128 to 16384", 1 },
        { "memory frame size", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"memory\": { \"frameSize\": 3000 },", "\"frameSize\": 3000", "3", "$.memory.frameSize", "frame size 3000 is not one of 2048, 4096 (or leave it out to choose by MTU)", 1 },
        { "no workers", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"workers\": 0,", "\"workers\": 0", "0", "$.workers", "0 workers: give 1 to 64 (one per core), or leave it out for the board's choice (every core on a PC)", 1 },
        { "too many workers", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"workers\": 65,", "\"workers\": 65", "6", "$.workers", "65 workers: give 1 to 64 (one per core), or leave it out for the board's choice (every core on a PC)", 1 },
        { "relative control socket", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"controlSocket\": \"control.sock\",", "\"control.sock\"", "\"", "$.controlSocket", "control socket \"control.sock\" must be an absolute path like \"/run/meta-appliance/control.sock\"", 1 },
        { "control group with a space", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"controlGroup\": \"net admins\",", "\"net admins\"", "\"", "$.controlGroup", "\"net admins\" contains ' '; use letters, digits, '.', '_' and '-' (a Linux group name)", 1 },
        { "metrics host name", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"metrics\": { \"listen\": \"localhost:9101\" },", "\"localhost:9101\"", "\"", "$.metrics.listen", "\"localhost:9101\" is not an address and port like \"127.0.0.1:9101\" or \"[::1]:9101\"", 1 },
        { "metrics port out of range", "\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"metrics\": { \"listen\": \"127.0.0.1:70000\" },", "\"127.0.0.1:70000\"", "\"", "$.metrics.listen", "\"127.0.0.1:70000\" is not an address and port like \"127.0.0.1:9101\" or \"[::1]:9101\"", 1 },
        { "empty board", "\"board\": \"qemu-virt\"", "\"board\": \"\"", "\"board\": \"\"", "\"\"", "$.board", "board is empty; expected a board profile name like \"qemu-virt\"", 1 },
        { "program twice in a chain", "[{ \"program\": \"count\" }]", "[{ \"program\": \"count\" }, { \"program\": \"count\" }]", "}, { \"program\": \"count\" }", "\"count\"", "$.pairs[0].primary.chain[1].program", "program \"count\" is already in this chain at $.pairs[0].primary.chain[0]; a program runs at most once per side", 1 },
        { "peer program on primary side", "[{ \"program\": \"count\" }]", "[{ \"program\": \"allow\" }]", "\"pass\", \"chain\": [{ \"program\": \"allow\"", "\"allow\"", "$.pairs[0].primary.chain[0].program", "program \"allow\" is section \"netkit/peer\" and cannot run on the primary side; use a \"netkit/primary\" or \"tc\" program here", 1 },
        { "l3 pair without address", "\"addresses\": [\"10.0.2.2/32\"]", "\"addresses\": []", "[]", "[", "$.pairs[1].tenant.addresses", "an l3 pair needs at least one address: the appliance routes to the tenant by its prefixes", 1 },
        { "map key set twice", "[{ \"key\": 22, \"value\": 0 }]", "[{ \"key\": 22, \"value\": 0 }, { \"key\": 22, \"value\": 1 }]", "{ \"key\": 22, \"value\": 1 }", "22", "$.programs[0].maps.allowed_ports[1].key", "key 22 is already set by $.programs[0].maps.allowed_ports[0]", 1 },
        { "tenant interface taken", "\"netns\": \"ns-b\"", "\"netns\": \"ns-a\"", "\"ns-a\", \"interface\": \"eth0\", \"mac\": \"02:00:00:00:0b:02\"", "\"eth0\"", "$.pairs[1].tenant.interface", "interface \"eth0\" in netns \"ns-a\" is already the tenant of $.pairs[0]", 1 },
        { "NUL in object path", "\"object\": \"counter.bpf.o\"", "\"object\": \"counter\\u0000.o\"", "\"counter\\u0000.o\"", "\"", "$.programs[1].object", "object path contains a NUL character", 1 },
    };
}
