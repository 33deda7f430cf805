/**
 * A value usable both the Next.js 14 way (`headers().get(…)`, `params.slug`) and the 15+ way
 * (`(await headers()).get(…)`, `(await params).slug`).
 */
export function syncAndAsync<T extends object>(value: T): T & Promise<T> {
  const promise = Promise.resolve(value);
  return new Proxy(value, {
    get(target, property) {
      if (property === 'then' || property === 'catch' || property === 'finally') {
        const method = promise[property] as (...args: unknown[]) => unknown;
        return method.bind(promise);
      }
      const result = Reflect.get(target, property, target);
      return typeof result === 'function' ? result.bind(target) : result;
    },
  }) as T & Promise<T>;
}
