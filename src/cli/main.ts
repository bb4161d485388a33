#!/usr/bin/env node
// Entry point of the `winrescue` command.
import { main } from './program.js';

await main(process.argv);
