/** LINKTYPE_* numbers (tcpdump.org/linktypes) and the names reports show. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
/** DLT_RAW as OpenBSD numbers it; written into some old files as is. */
export const LINKTYPE_RAW_OLD_12 = 12;
/** DLT_RAW as BSD/OS numbers it. */
export const LINKTYPE_RAW_OLD_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'NULL (BSD loopback)',
  [LINKTYPE_ETHERNET]: 'Ethernet',
  [LINKTYPE_RAW_OLD_12]: 'Raw IP',
  [LINKTYPE_RAW_OLD_14]: 'Raw IP',
  [LINKTYPE_RAW]: 'Raw IP',
  [LINKTYPE_LOOP]: 'LOOP (OpenBSD loopback)',
  [LINKTYPE_LINUX_SLL]: 'Linux cooked (SLL)',
  [LINKTYPE_IPV4]: 'Raw IPv4',
  [LINKTYPE_IPV6]: 'Raw IPv6',
  [LINKTYPE_LINUX_SLL2]: 'Linux cooked v2 (SLL2)',
};

export function linkTypeName(linkType: number): string {
  return NAMES[linkType] ?? `link type ${linkType}`;
}
