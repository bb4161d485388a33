// VHDX sizes, limits and identifiers, [MS-VHDX] v8.0 (2024) §2.1–§2.6; cross-checked with libyal libvhdi
// "Virtual Hard Disk version 2 (VHDX) image format". GUIDs are kept as lowercase strings in the mixed-endian
// form `guidToString` produces from the on-disk bytes.

export const KIB = 1024;
export const MIB = 1024 * 1024;

/** §2.2: the header section is 1 MiB of five 64 KiB items; every other structure lies beyond it. */
export const HEADER_SECTION_SIZE = MIB;
export const FILE_IDENTIFIER_OFFSET = 0;
/** §2.2.2: header 1 at 64 KiB, header 2 at 128 KiB, each a 4 KiB structure. */
export const HEADER_OFFSETS = [64 * KIB, 128 * KIB] as const;
export const HEADER_SIZE = 4 * KIB;
/** §2.2.3: region table copies at 192 KiB and 256 KiB, each 64 KiB. */
export const REGION_TABLE_OFFSETS = [192 * KIB, 256 * KIB] as const;
export const REGION_TABLE_SIZE = 64 * KIB;
/** §2.1: every object after the header section is 1 MiB aligned; BAT offsets count in MiB. */
export const OBJECT_ALIGNMENT = MIB;

/** §2.6.2.1: block size is a power of two from 1 MiB to 256 MiB. */
export const MIN_BLOCK_SIZE = MIB;
export const MAX_BLOCK_SIZE = 256 * MIB;
/** §2.6.2.2: at most 64 TiB of virtual disk. */
export const MAX_VIRTUAL_DISK_SIZE = 64 * 1024 * 1024 * MIB;
/** §2.4: one sector bitmap block is 1 MiB and describes 2^23 logical sectors. */
export const SECTOR_BITMAP_BLOCK_SIZE = MIB;
export const SECTORS_PER_BITMAP_BLOCK = 2 ** 23;
/** §2.6.2.4 / §2.6.2.5: the only sector sizes the format allows. */
export const SECTOR_SIZES: readonly number[] = [512, 4096];

/** §2.2.3.1 and §2.6.1.1: both tables hold at most 2047 entries (a 64 KiB table minus its header). */
export const MAX_TABLE_ENTRIES = 2047;
/** §2.6.1: the metadata table occupies the first 64 KiB of the metadata region; items lie beyond it. */
export const METADATA_TABLE_SIZE = 64 * KIB;
/** §2.6.1.2: a metadata item is at most 1 MiB. */
export const MAX_METADATA_ITEM_SIZE = MIB;

/** §2.3.1: the log is made of 4 KiB sectors; entries start on a sector boundary. */
export const LOG_SECTOR_SIZE = 4 * KIB;

/**
 * Our own ceiling on the BAT we hold in memory: 256 MiB of entries covers a 32 TiB disk with 1 MiB blocks
 * (Hyper-V's default 32 MiB blocks need 32 KiB per TiB). Larger BATs are refused with `disk.unsupported`.
 */
export const MAX_CACHED_BAT_BYTES = 256 * MIB;
/** Our own ceiling on the log we read for replay; Hyper-V and qemu make 1 MiB logs. */
export const MAX_LOG_LENGTH = 256 * MIB;

/** §2.2.3.2 "Known Regions". */
export const REGION_BAT = '2dc27766-f623-4200-9d64-115e9bfd4a08';
export const REGION_METADATA = '8b7ca206-4790-4b9a-b8fe-575f050f886e';

/** §2.6.2 "Known Metadata Items" (all system items: IsUser clear). */
export const ITEM_FILE_PARAMETERS = 'caa16737-fa36-4d43-b3b6-33f0aa44e76b';
export const ITEM_VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
export const ITEM_VIRTUAL_DISK_ID = 'beca12ab-b2e6-4523-93ef-c309e000c746';
export const ITEM_LOGICAL_SECTOR_SIZE = '8141bf1d-a96f-4709-ba47-f233a8faab5f';
export const ITEM_PHYSICAL_SECTOR_SIZE = 'cda348c7-445d-4471-9cc9-e9885251c556';
export const ITEM_PARENT_LOCATOR = 'a8d35f2d-b30b-454d-abf7-d3d84834ab0c';

/** §2.6.2.6.3: the only parent locator type the specification defines. */
export const LOCATOR_TYPE_VHDX = 'b04aefb7-d19e-4a81-b789-25b8e9445913';
