#!/usr/bin/env node
// node-redis (Debian 12's node-redis, 4.5.1) against a running Vigil cluster: the ordinary
// calls of a Node.js user -- strings, MSET, SET NX, expiry, counters, pipelines, SCAN,
// binary data -- and errors answered clearly, also while a node is paused.
//
// Usage: node node_redis_test.js HOST PORT HOST PORT PID  (two nodes' client ports, and
// the pid of the third node, which checkPausedNode stops with SIGSTOP and resumes). Run by
// tests/integration/cluster_node_redis_test.cpp, which starts the cluster. Debian installs
// the library under /usr/share/nodejs: Debian's nodejs searches it, other builds of node
// need NODE_PATH=/usr/share/nodejs (the integration test sets it).
// Exits 0 when every check passed; otherwise prints each failed check and exits 1.
'use strict';

const assert = require('assert/strict');
const { createClient, commandOptions } = require('redis');

async function checkStrings(r, other) {
  assert.equal(await r.ping(), 'PONG');
  assert.equal(await r.set('js:s', 'hello'), 'OK');
  assert.equal(await r.get('js:s'), 'hello');
  assert.equal(await other.get('js:s'), 'hello', 'an acknowledged write is seen through another node');
  assert.equal(await r.exists(['js:s', 'js:absent']), 1);
  assert.equal(await r.get('js:absent'), null);
  assert.equal(await r.del(['js:s', 'js:absent']), 1);
  assert.equal(await other.get('js:s'), null);
}

async function checkMsetAndNx(r, other) {
  assert.equal(await r.mSet({ 'js:m1': 'a', 'js:m2': 'b' }), 'OK');
  assert.deepEqual(await other.mGet(['js:m1', 'js:absent', 'js:m2']), ['a', null, 'b']);
  assert.equal(await r.set('js:nx', 'first', { NX: true }), 'OK');
  assert.equal(await other.set('js:nx', 'second', { NX: true }), null, 'NX on a present key writes nothing');
  assert.equal(await r.get('js:nx'), 'first');
  assert.equal(await r.set('js:xx', 'v', { XX: true }), null, 'XX on an absent key writes nothing');
}

async function checkPipelines(r, other) {
  // A pipeline without a transaction: node-redis' execAsPipeline sends no MULTI.
  const replies = await r.multi().set('js:p', '1').get('js:p').set('js:p', '2').get('js:p')
    .execAsPipeline();
  assert.deepEqual(replies, ['OK', '1', 'OK', '2'], 'read your writes');
  // Commands issued in one tick are auto-pipelined on the connection.
  const auto = await Promise.all([r.set('js:a1', 'x'), r.set('js:a2', 'y'), r.get('js:a1')]);
  assert.deepEqual(auto, ['OK', 'OK', 'x']);
  assert.equal(await other.get('js:p'), '2');
}

async function checkBinary(r, other) {
  const key = Buffer.from([0, 1, 2, 255, 13, 10, 0x6a]);
  const value = Buffer.concat([Buffer.from([255, 254, 0, 13, 10]), Buffer.alloc(1000, 7)]);
  assert.equal(await r.set(key, value), 'OK');
  const back = await other.get(commandOptions({ returnBuffers: true }), key);
  assert.ok(Buffer.isBuffer(back));
  assert.ok(back.equals(value), 'binary values come back byte for byte');
}

async function checkScan(r, other) {
  const wanted = new Set();
  const writes = [];
  for (let i = 0; i < 150; i++) {
    wanted.add(`js:scan:${i}`);
    writes.push(r.set(`js:scan:${i}`, String(i)));
  }
  await Promise.all(writes);
  // scanIterator keeps the cursor as a Number: Vigil's cursors stay below 2^53.
  const seen = new Map();
  for await (const key of other.scanIterator({ MATCH: 'js:scan:*', COUNT: 20 })) {
    seen.set(key, (seen.get(key) || 0) + 1);
  }
  assert.equal(seen.size, wanted.size, `listed ${seen.size} of ${wanted.size} keys`);
  for (const [key, times] of seen) {
    assert.ok(wanted.has(key), `unexpected key ${key}`);
    assert.equal(times, 1, `${key} listed ${times} times`);
  }
  const keys = await r.keys('js:scan:1?');
  assert.deepEqual(keys.sort(), Array.from({ length: 10 }, (_, i) => `js:scan:1${i}`).sort());
  const size = await r.dbSize();
  assert.ok(Number.isInteger(size) && size > 0, `DBSIZE ${size}`);
}

async function expectError(promise, ...fragments) {
  try {
    await promise;
  } catch (error) {
    for (const fragment of fragments) {
      assert.ok(String(error.message).includes(fragment), `${fragment} not in ${error.message}`);
    }
    return;
  }
  assert.fail(`no error; expected one with ${fragments}`);
}

async function checkExpiry(r, other) {
  assert.equal(await r.set('js:e', 'v', { EX: 100 }), 'OK');
  const ttl = await other.ttl('js:e');
  assert.ok(ttl >= 98 && ttl <= 100, `the expiry travels with the value (TTL ${ttl})`);
  assert.equal(await r.persist('js:e'), true);
  assert.equal(await other.ttl('js:e'), -1);
  assert.equal(await r.expire('js:e', 50), true);
  assert.ok((await other.pTTL('js:e')) <= 50000);
  assert.equal(await r.pExpire('js:e', 200), true);
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && (await other.exists('js:e')) === 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(await other.get('js:e'), null, 'expired');
  assert.equal(await r.ttl('js:e'), -2);
}

async function checkCounters(r, other) {
  assert.equal(await r.incr('js:c'), 1);
  assert.equal(await other.incrBy('js:c', 10), 11);
  assert.equal(await r.decr('js:c'), 10);
  assert.equal(await other.decrBy('js:c', 4), 6);
  assert.equal(await r.get('js:c'), '6', 'GET answers a counter as a decimal string');
  // Increments through both nodes at once are all counted.
  const increments = [];
  for (let i = 0; i < 40; i++) increments.push((i % 2 ? r : other).incr('js:c'));
  await Promise.all(increments);
  assert.equal(await other.get('js:c'), '46');
  assert.equal(await r.set('js:ci', '41'), 'OK');
  assert.equal(await r.incr('js:ci'), 42, 'an integer string is counted on from');
  assert.equal(await r.set('js:cs', 'text'), 'OK');
  await expectError(r.incr('js:cs'), 'value is not an integer or out of range');
  await expectError(r.sendCommand(['INCRBYFLOAT', 'js:c', '1.5']), 'incrbyfloat is not supported');
}

// A paused node (SIGSTOP, as a stalled process or a long GC pause): writes at quorum still
// succeed through the others; at `all` the client gets an error that says why, not a hang.
async function checkPausedNode(r, other, pausedPid) {
  process.kill(pausedPid, 'SIGSTOP');
  try {
    assert.equal(await r.set('js:paused', 'v'), 'OK', 'quorum without the paused node');
    assert.equal(await other.get('js:paused'), 'v');
    assert.equal(await r.sendCommand(['CONSISTENCY', 'all']), 'OK');
    try {
      await expectError(r.set('js:paused', 'w'), 'replicas');
    } finally {
      await r.sendCommand(['CONSISTENCY', 'quorum']);
    }
  } finally {
    process.kill(pausedPid, 'SIGCONT');
  }
  assert.equal(await r.ping(), 'PONG', 'the connection is usable after the error');
}

async function checkErrors(r, other) {
  await expectError(r.scan(17), 'invalid cursor');
  await expectError(r.sendCommand(['MULTI']), 'MULTI/EXEC transactions are not supported by Vigil');
  await r.sendCommand(['DISCARD']).catch(() => {});
  await expectError(r.sendCommand(['NOSUCHCOMMAND']), 'unknown command');
  assert.equal(await other.ping(), 'PONG', 'the connections are usable after errors');
  assert.equal(await r.ping(), 'PONG');
}

const CHECKS = [checkStrings, checkMsetAndNx, checkExpiry, checkCounters, checkPipelines, checkBinary,
  checkScan, checkErrors, checkPausedNode];

async function main(argv) {
  if (argv.length < 5) {
    console.error('usage: node_redis_test.js HOST PORT HOST PORT PID');
    return 2;
  }
  const pausedPid = Number(argv[4]);
  const clients = [];
  for (const i of [0, 2]) {
    const client = createClient({ socket: { host: argv[i], port: Number(argv[i + 1]), connectTimeout: 10000 } });
    client.on('error', (error) => console.error(`client error: ${error.message}`));
    await client.connect();
    clients.push(client);
  }
  let failed = 0;
  for (const check of CHECKS) {
    try {
      await check(...clients, pausedPid);
      console.log(`ok   ${check.name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${check.name}\n${error.stack}`);
    }
  }
  const version = require('@redis/client/package.json').version;
  console.log(`node-redis (@redis/client ${version}): ${CHECKS.length - failed} of ${CHECKS.length} checks passed`);
  await Promise.all(clients.map((client) => client.quit().catch(() => {})));
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
  console.error(error.stack);
  process.exit(1);
});
