import { describe, expect, it } from 'vitest';
import { classifyRedisError, replyCode } from './redis-errors.js';

class ErrorReply extends Error {}
class ClientOfflineError extends Error {}

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
}

describe('classifyRedisError', () => {
  it.each([
    ['LOADING Redis is loading the dataset in memory', 'LOADING'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'BUSY'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'TRYAGAIN'],
    ['CLUSTERDOWN The cluster is down', 'CLUSTERDOWN'],
    ['ERR max number of clients reached', 'ERR'],
  ])('retries the reply %j', (message, code) => {
    expect(classifyRedisError(new ErrorReply(message))).toMatchObject({ kind: 'transient', code });
  });

  it.each([
    ["READONLY You can't write against a read only replica.", 'READONLY'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.', 'MASTERDOWN'],
  ])('dials a new connection for %j', (message, code) => {
    expect(classifyRedisError(new ErrorReply(message))).toMatchObject({ kind: 'redial', code });
  });

  it.each([
    ["NOPERM User limited has no permissions to run the 'evalsha' command", 'NOPERM', /lacks a permission/],
    ['NOAUTH Authentication required.', 'NOAUTH', /requires a password/],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS', /username or password is wrong/],
    ['MOVED 3999 127.0.0.1:7001', 'MOVED', /pass a cluster client/],
    ['ASK 3999 127.0.0.1:7001', 'ASK', /pass a cluster client/],
    ['NOSCRIPT No matching script. Please use EVAL.', 'NOSCRIPT', /does not keep the script/],
    ["OOM command not allowed when used memory > 'maxmemory'.", 'OOM', /out of memory/],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'WRONGTYPE', /another type/],
    ['ERR Error running script (call to f_1234): @user_script:1: oops', 'ERR', /refused the command/],
    ['SOMENEWCODE something', 'SOMENEWCODE', /refused the command/],
  ])('gives up at once on %j', (message, code, description) => {
    const classification = classifyRedisError(new ErrorReply(message));
    expect(classification).toMatchObject({ kind: 'permanent', code });
    expect(classification.description).toMatch(description);
    // The cause's own words stay in the description.
    expect(classification.description).toContain(message);
  });

  it('gives up at once when the client fails inside (a TypeError), saying so', () => {
    const classification = classifyRedisError(new TypeError("Cannot read properties of undefined (reading 'sendCommand')"));
    expect(classification).toMatchObject({ kind: 'permanent', code: 'TypeError' });
    expect(classification.description).toMatch(/the Redis client failed inside \(TypeError: Cannot read/);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'])('retries the socket error %s', (code) => {
    expect(classifyRedisError(socketError(code))).toMatchObject({ kind: 'transient', code });
  });

  it('retries what node-redis and ioredis report while disconnected', () => {
    expect(classifyRedisError(new ClientOfflineError('The client is offline'))).toMatchObject({
      kind: 'transient',
      code: 'ClientOfflineError',
    });
    expect(classifyRedisError(new Error('Connection is closed.'))).toMatchObject({ kind: 'transient' });
  });

  it('looks inside an AggregateError (a host with an IPv4 and an IPv6 address)', () => {
    const error = new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], 'connect failed');
    expect(classifyRedisError(error)).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });
});

describe('replyCode', () => {
  it('reads the code of a Redis error reply and nothing else', () => {
    expect(replyCode(new Error('NOPERM no'))).toBe('NOPERM');
    expect(replyCode(new Error('The client is closed'))).toBeUndefined();
    expect(replyCode('READONLY x')).toBe('READONLY');
  });
});
