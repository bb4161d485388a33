// Locating Windows on a disk and reading its offline configuration basics (REFERENCE.md §1.4, §2.1).
export {
  BIOS_BCD_PATH,
  SYSTEM_HIVE_PATH,
  SYSTEM_ROOT,
  UEFI_BCD_PATH,
  locateWindows,
  type BcdLocation,
  type SystemPartition,
  type WindowsInstall,
  type WindowsLocation,
} from './locate.js';
export {
  SELECT_KEY,
  architecture,
  controlSetName,
  currentControlSet,
  type ControlSetSelection,
} from './control-set.js';
