import { Select } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";

interface Props {
  client: string;
  value: number | null | undefined;
  onChange: (serviceId: number | null) => void;
  label?: string;
  placeholder?: string;
  error?: string;
}

/** One of the client's services, or none. */
export function ServiceSelect({ client, value, onChange, label, placeholder = "None", error }: Props) {
  const services = useQuery({
    queryKey: [client, "services"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/services", { params: { path: { client }, query: { limit: 200 } } })),
  });
  return (
    <Select
      label={label}
      aria-label={label ? undefined : "Service"}
      clearable
      placeholder={placeholder}
      data={(services.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))}
      value={value ? String(value) : null}
      error={error}
      onChange={(v) => onChange(v ? Number(v) : null)}
    />
  );
}
