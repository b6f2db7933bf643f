import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('runs one read per key however many ask meanwhile, and gives each its answer', async () => {
    const flights = new SingleFlight<number>();
    let reads = 0;
    let finish!: (value: number) => void;
    const read = () => {
      reads += 1;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const asked = Array.from({ length: 1_000 }, () => flights.run('a', read));
    const other = flights.run('b', () => Promise.resolve(7));
    expect(reads).toBe(1);
    finish(42);
    expect(await Promise.all(asked)).toEqual(Array(1_000).fill(42));
    expect(await other).toBe(7);
    expect(flights.size).toBe(0);
  });

  it('reads again once the read is over, and after a failure', async () => {
    const flights = new SingleFlight<number>();
    await expect(flights.run('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(flights.size).toBe(0);
    expect(await flights.run('a', () => Promise.resolve(1))).toBe(1);
    expect(await flights.run('a', () => Promise.resolve(2))).toBe(2);
  });
});
