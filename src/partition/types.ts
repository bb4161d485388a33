// Partition type identifiers and their names. Sources: UEFI 2.10 §5.3.3 Table 5-7 (GPT types defined by
// UEFI), Microsoft "PARTITION_INFORMATION_GPT" (Windows GPT types), Andries Brouwer's "Partition types"
// list (MBR ids). Names follow util-linux's wording where it has one, so listings read like `sfdisk -l`.

/** GPT type GUIDs, lowercase as guidToString prints them. */
export const GPT_TYPE = {
  unused: '00000000-0000-0000-0000-000000000000',
  efiSystem: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  microsoftReserved: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  microsoftBasicData: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  windowsRecovery: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
  ldmMetadata: '5808c8aa-7e8f-42e0-85d2-e1e90434cfb3',
  ldmData: 'af9b60a0-1431-4f62-bc68-3311714a69ad',
  storageSpaces: 'e75caf8f-f680-4cee-afa3-b001e56efc2d',
  biosBoot: '21686148-6449-6e6f-744e-656564454649',
  linuxFilesystem: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  linuxSwap: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  linuxLvm: 'e6d6d379-f507-44c2-a23c-238f2a3df928',
  linuxRaid: 'a19d880f-05fc-4d3b-a006-743f0f84911e',
  linuxRootX86_64: '4f68bce3-e8cd-4db1-96e7-fbcaf984b709',
} as const;

const GPT_NAMES: ReadonlyMap<string, string> = new Map([
  [GPT_TYPE.efiSystem, 'EFI System'],
  [GPT_TYPE.microsoftReserved, 'Microsoft reserved'],
  [GPT_TYPE.microsoftBasicData, 'Microsoft basic data'],
  [GPT_TYPE.windowsRecovery, 'Windows recovery environment'],
  [GPT_TYPE.ldmMetadata, 'Microsoft LDM metadata'],
  [GPT_TYPE.ldmData, 'Microsoft LDM data'],
  [GPT_TYPE.storageSpaces, 'Microsoft Storage Spaces'],
  [GPT_TYPE.biosBoot, 'BIOS boot'],
  [GPT_TYPE.linuxFilesystem, 'Linux filesystem'],
  [GPT_TYPE.linuxSwap, 'Linux swap'],
  [GPT_TYPE.linuxLvm, 'Linux LVM'],
  [GPT_TYPE.linuxRaid, 'Linux RAID'],
  [GPT_TYPE.linuxRootX86_64, 'Linux root (x86-64)'],
]);

const MBR_NAMES: ReadonlyMap<number, string> = new Map([
  [0x01, 'FAT12'],
  [0x04, 'FAT16 <32M'],
  [0x05, 'Extended'],
  [0x06, 'FAT16'],
  [0x07, 'HPFS/NTFS/exFAT'],
  [0x0b, 'W95 FAT32'],
  [0x0c, 'W95 FAT32 (LBA)'],
  [0x0e, 'W95 FAT16 (LBA)'],
  [0x0f, "W95 Ext'd (LBA)"],
  [0x11, 'Hidden FAT12'],
  [0x12, 'Compaq diagnostics'],
  [0x14, 'Hidden FAT16 <32M'],
  [0x16, 'Hidden FAT16'],
  [0x17, 'Hidden HPFS/NTFS'],
  [0x1b, 'Hidden W95 FAT32'],
  [0x1c, 'Hidden W95 FAT32 (LBA)'],
  [0x1e, 'Hidden W95 FAT16 (LBA)'],
  [0x27, 'Hidden NTFS WinRE'],
  [0x42, 'SFS / Windows dynamic disk'],
  [0x82, 'Linux swap / Solaris'],
  [0x83, 'Linux'],
  [0x85, 'Linux extended'],
  [0x86, 'NTFS volume set'],
  [0x87, 'NTFS volume set'],
  [0x8e, 'Linux LVM'],
  [0xa5, 'FreeBSD'],
  [0xee, 'GPT'],
  [0xef, 'EFI (FAT-12/16/32)'],
  [0xfd, 'Linux raid autodetect'],
]);

/** '0x07' style: two lowercase hex digits, how the MBR type id appears in our listings. */
export function mbrTypeString(id: number): string {
  return '0x' + id.toString(16).padStart(2, '0');
}

export function mbrTypeName(id: number): string {
  return MBR_NAMES.get(id) ?? 'Unknown';
}

export function gptTypeName(guid: string): string {
  return GPT_NAMES.get(guid.toLowerCase()) ?? 'Unknown';
}
