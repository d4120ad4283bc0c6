import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A uPlot chart sized to its container. uPlot draws on canvas, so the chart carries a text
 * summary (`label`) for screen readers; the page shows the same numbers as text nearby.
 */
export function Chart(props: { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; height: number; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const chart = new uPlot({ ...props.options, width: Math.max(200, el.clientWidth), height: props.height }, props.data, el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: props.height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Options are fixed per mount; data changes go through setData below.
  }, [props.height]);

  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);

  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}
