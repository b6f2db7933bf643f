import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('lets `size` holders in at once and the others in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    let inside = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3, 4, 5].map(async (n) => {
        await semaphore.acquire();
        inside += 1;
        most = Math.max(most, inside);
        order.push(n);
        await new Promise((r) => setTimeout(r, 5));
        inside -= 1;
        semaphore.release();
      }),
    );
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
  });
});
