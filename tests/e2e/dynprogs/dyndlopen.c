/* dyndlopen.c: dlopen a library the program is not linked with (libm.so.6) and call into it. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	void *h = dlopen("libm.so.6", RTLD_NOW);
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	double (*cosp)(double) = (double (*)(double))dlsym(h, "cos");
	double (*sqrtp)(double) = (double (*)(double))dlsym(h, "sqrt");
	if (!cosp || !sqrtp) {
		printf("dlsym: %s\n", dlerror());
		return 1;
	}
	printf("cos(0) = %g, sqrt(1764) = %g\n", cosp(0.0), sqrtp(1764.0));
	return dlclose(h);
}
