/* SPDX-License-Identifier: GPL-2.0-only */
/* Wi-Fi power save through nl80211 (generic netlink, libmnl). */
#ifndef TXPACE_WIFI_H
#define TXPACE_WIFI_H

/** @return 1 (on), 0 (off), or -errno (-ENODEV/-EOPNOTSUPP: not a Wi-Fi interface) */
int wifi_get_powersave(int ifindex);
/** @return 0 or -errno */
int wifi_set_powersave(int ifindex, int on);

#endif
