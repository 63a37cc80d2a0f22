package ember.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Turns `package.Class::method` into a Handler, running the class's initialization on the way (Init). */
final class HandlerLoader {
    private HandlerLoader() {
    }

    static Handler load(String spec, Path taskRoot) throws Throwable {
        String[] parts = spec.split("::", 2);
        String methodName = parts.length == 2 ? parts[1] : "handleRequest";
        ClassLoader loader = taskClassLoader(taskRoot);
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> type;
        try {
            type = Class.forName(parts[0], true, loader);
        } catch (ClassNotFoundException missing) {  // a dependency it lacks stays a NoClassDefFoundError
            throw new ClassNotFoundException("Class not found: " + parts[0], missing);
        }
        Method method = handlerMethod(type, methodName);
        Object target = Modifier.isStatic(method.getModifiers()) ? null : type.getConstructor().newInstance();
        return isStream(method) ? streamHandler(target, method) : new PojoHandler(target, method, loader);
    }

    /** Lambda's layout: classes at the root of the package, libraries in lib/*.jar, then the layers' java/lib/*.jar
     *  (at /opt, or where _EMBER_OPT_DIR says in a sandbox without a mount namespace). */
    private static ClassLoader taskClassLoader(Path taskRoot) throws IOException {
        List<URL> urls = new ArrayList<>();
        urls.add(taskRoot.toUri().toURL());
        addJars(urls, taskRoot.resolve("lib"));
        addJars(urls, Path.of(System.getenv().getOrDefault("_EMBER_OPT_DIR", "/opt"), "java", "lib"));
        return new URLClassLoader(urls.toArray(new URL[0]), HandlerLoader.class.getClassLoader());
    }

    private static void addJars(List<URL> urls, Path lib) throws IOException {
        if (!Files.isDirectory(lib)) {
            return;
        }
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                urls.add(jar.toUri().toURL());
            }
        }
    }

    /** The public method of that name with the most parameters among the shapes Lambda accepts. */
    private static Method handlerMethod(Class<?> type, String name) throws NoSuchMethodException {
        return Arrays.stream(type.getMethods())
                .filter(m -> m.getName().equals(name) && !m.isBridge() && !m.isSynthetic())
                .filter(m -> isStream(m) || acceptsObject(m))
                .max(Comparator.comparingInt(Method::getParameterCount))
                .orElseThrow(() -> new NoSuchMethodException("No public method named " + name
                        + " with appropriate method signature found on class " + type.getName()));
    }

    private static boolean isStream(Method method) {
        Class<?>[] p = method.getParameterTypes();
        return p.length >= 2 && p.length <= 3 && p[0] == InputStream.class && p[1] == OutputStream.class
                && (p.length == 2 || p[2] == Context.class);
    }

    private static boolean acceptsObject(Method method) {
        Class<?>[] p = method.getParameterTypes();
        return p.length <= 1 || (p.length == 2 && p[1] == Context.class);
    }

    private static Handler streamHandler(Object target, Method method) {
        return (event, context) -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = new ByteArrayInputStream(event);
            call(target, method, method.getParameterCount() == 3
                    ? new Object[] {in, out, context} : new Object[] {in, out});
            return out.toByteArray();
        };
    }

    static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException thrown) {
            throw thrown.getCause();
        }
    }
}
