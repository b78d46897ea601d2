import { AsyncResource } from 'node:async_hooks';

let installed = false;

/**
 * Node 20's `AsyncResource#bind` gives every bound function a deprecated `asyncResource` accessor (DEP0172) made of
 * two `util.deprecate` wrappers, each of which sets a function's prototype: about 13 us per call on this machine,
 * and Fastify binds once per request with a body (its content-type parser), 5 to 10% of a predict's time. This
 * installs the same binding (the function runs in the resource's async context, with its `this`, arguments and
 * length) without that accessor; nothing here reads it. Idempotent.
 */
export function installLeanAsyncResourceBind(): void {
  if (installed) return;
  installed = true;
  AsyncResource.prototype.bind = function bind<Func extends (...args: never[]) => unknown>(
    this: AsyncResource,
    fn: Func,
    thisArg?: unknown,
  ): Func {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be of type function');
    return bindTo(this, fn, thisArg);
  } as typeof AsyncResource.prototype.bind;
}

function bindTo<Func extends (...args: never[]) => unknown>(resource: AsyncResource, fn: Func, thisArg: unknown): Func {
  const run = resource.runInAsyncScope as (
    this: AsyncResource,
    callback: Func,
    self: unknown,
    ...args: unknown[]
  ) => unknown;
  const bound =
    thisArg === undefined
      ? function (this: unknown, ...args: unknown[]): unknown {
          return run.call(resource, fn, this, ...args);
        }
      : function (...args: unknown[]): unknown {
          return run.call(resource, fn, thisArg, ...args);
        };
  Object.defineProperty(bound, 'length', {
    configurable: true,
    enumerable: false,
    value: fn.length,
    writable: false,
  });
  return bound as unknown as Func;
}
