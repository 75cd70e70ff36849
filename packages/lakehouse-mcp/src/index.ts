#!/usr/bin/env node
import { runCli } from '@switchyard/core';
import { cli } from './cli.js';

await runCli(cli);
